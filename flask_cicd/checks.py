"""Every answer checked by the rules of what will read it, before anything is written: a bad one
refused in one line (AnswerError), a doubtful one warned about."""

from __future__ import annotations

import keyword
import re
import sys
import unicodedata
from datetime import date
from email.headerregistry import Address, HeaderRegistry
from functools import cache

from flask_cicd.answers import (
    ANSWER_NAMES,
    CHOICES,
    DISTROLESS_PYTHON,
    DNS_1035_LABEL,
    DNS_LABEL_MAX,
    OS_RUNNERS,
    PYTHON_END_OF_LIFE,
    TEMPLATE_PROJECT,
    WINDOWS_RESERVED,
    AnswerError,
    check_environments,
    import_names,
    python_versions,
    shown,
    split_list,
)
from flask_cicd.platforms import deploy_target

SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
GITHUB_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
VERSION = re.compile(r"^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?$")
RUNNER_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

# Unicode categories no answer may hold: controls (DEL, newlines...), line and paragraph separators,
# lone surrogates, and invisible format characters (right-to-left overrides, zero-width spaces),
# which make a file read differently from what it holds. An answer is one line of visible text;
# replay and config files can carry anything.
NOT_ONE_LINE = {"Cc", "Cf", "Cs", "Zl", "Zp"}

# Module names the project's package must not take: Python's own, its dependencies', its own files'.
# The standard library of every Python the template accepts: this interpreter's, the modules
# removed since 3.10 (PEP 594, distutils, imp) and those added after 3.11. In lower case, as compared.
STDLIB_MODULES = {name.lower() for name in sys.stdlib_module_names} | {
    "aifc",
    "asynchat",
    "asyncore",
    "audioop",
    "binhex",
    "cgi",
    "cgitb",
    "chunk",
    "crypt",
    "distutils",
    "imghdr",
    "imp",
    "lib2to3",
    "mailcap",
    "msilib",
    "nis",
    "nntplib",
    "ossaudiodev",
    "pipes",
    "smtpd",
    "sndhdr",
    "spwd",
    "sunau",
    "telnetlib",
    "uu",
    "xdrlib",
    "annotationlib",
    "compression",
    "profiling",
    "tomllib",
    # CPython's own test suite, a package on sys.path that stdlib_module_names leaves out.
    "test",
}


@cache
def project_modules() -> dict[str, str]:
    """Top-level modules the generated project holds besides its package, by name: the ones at its
    root (pytest puts the root on sys.path) and in scripts/ (pythonpath in pyproject.toml)."""
    found = {}
    for folder in (TEMPLATE_PROJECT, TEMPLATE_PROJECT / "scripts"):
        for path in folder.iterdir():
            name = path.stem if path.suffix == ".py" else path.name if (path / "__init__.py").exists() else ""
            if name.isidentifier():
                found[name.lower()] = path.relative_to(TEMPLATE_PROJECT).as_posix()
    return found


@cache
def dependency_modules() -> dict[str, str]:
    """The top-level modules of the locked distributions: module -> distribution."""
    return {module.lower(): distribution for distribution, modules in import_names().items() for module in modules}


def check(answers: dict, today: date | None = None) -> list[str]:
    """Raise AnswerError for the first bad answer; return warnings for usable but doubtful ones."""
    today = today or date.today()
    warnings: list[str] = []
    for name, allowed in CHOICES.items():
        if answers[name] not in allowed:
            raise AnswerError(f"{name}: {answers[name]!r} is not one of {', '.join(allowed)}")
    for name in ANSWER_NAMES:
        if not isinstance(answers[name], str):  # a replay file can hold a number, a list...
            raise AnswerError(f"{name}: {answers[name]!r} is not text")
        odd = [char for char in answers[name] if unicodedata.category(char) in NOT_ONE_LINE]
        if odd:
            raise AnswerError(
                f"{name}: {shown(answers[name])} holds {odd[0]!r}; an answer is one line of printable text"
            )
    check_slug(answers["project_slug"], answers["project_name"])
    target = deploy_target(answers)
    if target["slug_max"] and len(answers["project_slug"]) > target["slug_max"]:
        raise AnswerError(
            f"project_slug: {shown(answers['project_slug'])} is {len(answers['project_slug'])} characters;"
            f" {target['slug_max_why']} it takes at most {target['slug_max']}: pass a shorter project_slug"
        )
    check_package_name(answers["package_name"])
    check_author(answers["author_name"], answers["author_email"])
    if not GITHUB_OWNER.match(answers["github_owner"]):
        raise AnswerError(f"github_owner: {shown(answers['github_owner'])} is not a GitHub user or organisation name")
    if not VERSION.match(answers["version"]):
        raise AnswerError(f"version: {shown(answers['version'])} is not a PEP 440 version such as 0.1.0")

    versions = python_versions(answers["python_versions"])
    if not versions:
        raise AnswerError("python_versions: give at least one, such as 3.13")
    for version in versions:
        if version not in PYTHON_END_OF_LIFE:
            raise AnswerError(
                f"python_versions: {shown(version)} is not supported; use {', '.join(PYTHON_END_OF_LIFE)}"
            )
        if PYTHON_END_OF_LIFE[version] < today:
            warnings.append(f"python_versions: {version} reached end of life on {PYTHON_END_OF_LIFE[version]}")
    if len(set(versions)) != len(versions):
        raise AnswerError(f"python_versions: {shown(answers['python_versions'])} names a version twice")
    if answers["container_base"] == "distroless" and DISTROLESS_PYTHON not in versions:
        raise AnswerError(
            f"container_base: 'distroless' runs Python {DISTROLESS_PYTHON} only, so python_versions"
            f" ({shown(answers['python_versions'])}) must include {DISTROLESS_PYTHON}; or choose 'slim'"
        )

    runners = split_list(answers["os_matrix"])
    if not runners:
        raise AnswerError(f"os_matrix: give at least one of {', '.join(OS_RUNNERS)}")
    for runner in runners:
        if runner not in OS_RUNNERS:
            raise AnswerError(f"os_matrix: {shown(runner)} is not one of {', '.join(OS_RUNNERS)}")
    if len(set(runners)) != len(runners):
        raise AnswerError(f"os_matrix: {shown(answers['os_matrix'])} names a runner twice")

    labels = split_list(answers["runner"])
    if not labels or not all(RUNNER_LABEL.match(label) for label in labels):
        raise AnswerError(f"runner: {shown(answers['runner'])} must be runner labels such as ubuntu-latest")

    check_environments(answers["environments"])
    if answers["deploy_target"] != "none" and answers["container_registry"] == "none":
        raise AnswerError(
            f"deploy_target: {shown(answers['deploy_target'])} deploys an image from a registry,"
            " so container_registry cannot be 'none'"
        )
    return warnings


def check_slug(slug: str, project_name: str) -> None:
    """The slug is the distribution name and names the image and every Kubernetes object."""
    if not slug:
        raise AnswerError(
            f"project_slug: project_name {shown(project_name)} has no letters or digits to make a slug of;"
            " give one, such as project_slug=my-service"
        )
    if not SLUG.match(slug) or not DNS_1035_LABEL.match(slug):
        raise AnswerError(
            f"project_slug: {shown(slug)} must be lowercase letters, digits and single dashes, starting with a letter"
        )
    if len(slug) > DNS_LABEL_MAX:
        raise AnswerError(
            f"project_slug: {shown(slug)} is {len(slug)} characters; it names the Kubernetes objects,"
            f" which take at most {DNS_LABEL_MAX}: pass a shorter project_slug"
            f" (e.g. {slug[:DNS_LABEL_MAX].rstrip('-')!r})"
        )
    if WINDOWS_RESERVED.match(slug):
        raise AnswerError(
            f"project_slug: {slug!r} names a device on Windows, so the project's folder cannot be made there;"
            f" choose e.g. '{slug}-service'"
        )
    if slug in import_names():
        raise AnswerError(
            f"project_slug: {slug!r} is the name of one of the project's own dependencies, which installing"
            f" the project would replace; choose e.g. '{slug}-service'"
        )


def check_package_name(package: str) -> None:
    """The package is imported by that name: it must not be, or hide, any other module."""
    if not package.isidentifier() or not package.isascii():
        raise AnswerError(f"package_name: {shown(package)} is not a valid Python identifier")
    why = module_clash(package)
    if why:
        suggestion = f"{package.strip('_')}_service"
        raise AnswerError(f"package_name: {package!r} {why}; choose e.g. {suggestion!r}")


def module_clash(package: str) -> str | None:
    """Why `import <package>` would not import the project's package, or None.

    Compared in lower case: macOS and Windows file systems ignore case.
    """
    name = package.lower()
    if keyword.iskeyword(package) or keyword.iskeyword(name):
        return "is a Python keyword"
    if name.startswith("_"):
        return "starts with '_', as Python's own modules ('__main__', '_thread') and private ones do"
    if WINDOWS_RESERVED.match(name):
        return "names a device on Windows, so its folder cannot be checked out there"
    if name in STDLIB_MODULES:
        return "is a standard-library module"
    dependency = dependency_modules().get(name)
    if dependency:
        return f"is a module of {dependency}, one of the project's dependencies"
    own = project_modules().get(name)
    if own:
        return f"is a module of the project itself ({own})"
    return None


def check_author(name: str, email: str) -> None:
    """The authors as the build backend writes them into the package metadata (hatchling: an
    `Author-email: name <address>` header, by email.headerregistry.Address)."""
    if not EMAIL.match(email):
        raise AnswerError(f"author_email: {shown(email)} is not an e-mail address such as you@example.com")
    if not email.isascii():
        raise AnswerError(
            f"author_email: {shown(email)} is not ASCII, which the package metadata's address cannot carry"
        )
    try:
        header = str(Address(display_name=name, addr_spec=email))
        (written,) = HeaderRegistry()("to", header).addresses
    except Exception as error:  # the email package raises ValueError and its own header defects
        raise AnswerError(f"author_email: {shown(email)} cannot be written as package metadata ({error})") from None
    # What a reader of the metadata gets back must be what was answered.
    if written.addr_spec != email:
        raise AnswerError(
            f"author_email: {shown(email)} reads back from package metadata as {shown(written.addr_spec)}"
        )
    if written.display_name != name:
        raise AnswerError(
            f"author_name: {shown(name)} reads back from package metadata as {shown(written.display_name)}"
        )


def verdict(answers: dict) -> tuple[list[str], int]:
    """The lines to print about these answers, and the exit status: the one error and 1, or the
    warnings and 0. The pre-generation hook is rendered with it, and only prints and exits."""
    try:
        warnings = check(answers)
    except AnswerError as error:
        return [f"error: {error}"], 1
    return [f"warning: {warning}" for warning in warnings], 0


def check_or_exit(answers: dict) -> None:
    """Refuse bad answers with one line on stderr and exit 1; print no warning (the hook does).

    The cookiecutter.json entry `__answers_checked` runs this in cookiecutter's own process, before
    anything is written; the pre-generation hook refuses replayed answers, which skip that entry.
    """
    lines, status = verdict(answers)
    if status:
        print(*lines, sep="\n", file=sys.stderr)
        raise SystemExit(status)
