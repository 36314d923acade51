"""The template's answers: how they are read and checked, which files each one switches off,
and the pinned dependencies each combination gets.

The pre-generation hook calls `check_or_exit`; the post-generation hook carries out
`post_generation`, which the bake works out in its own process; jinja_extension.py hands the
parsing to the templates; the template's tests import all of it. No Jinja here: the
pre-generation hook imports this module at every bake, and stays fast.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from email.headerregistry import Address, HeaderRegistry
from functools import cache
from pathlib import Path

from platforms import REGISTRIES, TARGETS, deploy_target

ROOT = Path(__file__).resolve().parent
COOKIECUTTER_JSON = json.loads((ROOT / "cookiecutter.json").read_text("utf-8"))
ANSWER_NAMES = [name for name in COOKIECUTTER_JSON if not name.startswith("_")]
CHOICES = {name: COOKIECUTTER_JSON[name] for name in ANSWER_NAMES if isinstance(COOKIECUTTER_JSON[name], list)}
# A choice's default is its first value.
DEFAULT_ANSWERS = {name: CHOICES[name][0] if name in CHOICES else COOKIECUTTER_JSON[name] for name in ANSWER_NAMES}
LOCKS = ROOT / "locks.json"
# The modules each locked distribution installs (scripts/import_names.py reads them from the wheels).
IMPORT_NAMES = ROOT / "import-names.json"
PINS = json.loads((ROOT / "github-actions-pins.json").read_text("utf-8"))
# The tools the generated workflows and image fetch at run time: version, and checksum or digest.
TOOLS = json.loads((ROOT / "tool-pins.json").read_text("utf-8"))
# The uv the template's own tests run is the uv a generated project's image installs.
UV_VERSION = re.search(
    r"^uv==(\S+)$", (ROOT / "requirements-dev.txt").read_text("utf-8"), flags=re.MULTILINE
).group(1)

# CPython minor versions the pinned dependencies install on, with their end of life.
PYTHON_END_OF_LIFE = {
    "3.10": date(2026, 10, 31),
    "3.11": date(2027, 10, 31),
    "3.12": date(2028, 10, 31),
    "3.13": date(2029, 10, 31),
    "3.14": date(2030, 10, 31),
    "3.15": date(2031, 10, 31),
}
# gcr.io/distroless/python3-debian13 ships Debian trixie's Python and nothing else.
DISTROLESS_PYTHON = "3.13"
OS_RUNNERS = ("ubuntu-latest", "windows-latest", "macos-latest")

# Files kept only while a condition on the answers holds, and removed from the baked project
# otherwise: the one manifest of pruning. Paths are relative to the project root, with the package
# folder named as in the template (see baked_path); a folder goes whole, and a folder all of whose
# entries went goes too (deploy/ without a target's files). The deploy targets and registries
# name their own files (`owns` and `cloud` in their folders, see platforms.py).
DEPLOY_PATHS = [
    ".github/workflows/deploy.yml",
    ".github/workflows/manual-deploy.yml",
    "scripts/smoke_test.py",
    "tests/unit/test_smoke_test.py",
]


def chosen(name: str, *values: str) -> Callable[[dict], bool]:
    """A condition: the answer `name` is one of `values`."""
    return lambda answers: answers[name] in values


def owned_by_platforms() -> dict[str, Callable[[dict], bool]]:
    """Each path a target or registry owns, kept while one of its owners is chosen; a cloud's
    set-up script, scripts/bootstrap_<cloud>.sh, is owned by the targets and registries there."""
    owners: dict[str, list[tuple[str, str]]] = {}
    for answer, platforms in (("deploy_target", TARGETS), ("container_registry", REGISTRIES)):
        for name, facts in platforms.items():
            setup = [f"scripts/bootstrap_{facts['cloud']}.sh"] if facts["cloud"] else []
            for path in [*facts["owns"], *setup]:
                owners.setdefault(path, []).append((answer, name))
    return {
        path: lambda answers, pairs=tuple(pairs): any(answers[name] == value for name, value in pairs)
        for path, pairs in owners.items()
    }


KEPT_WHEN: dict[str, Callable[[dict], bool]] = {
    ".flake8": chosen("code_style", "black+flake8"),
    "requirements-uv.txt": chosen("package_manager", "uv"),
    "src/{{cookiecutter.package_name}}/metrics.py": chosen("metrics", "prometheus"),
    "tests/unit/test_metrics.py": chosen("metrics", "prometheus"),
    "src/{{cookiecutter.package_name}}/error_tracking.py": chosen("error_tracking", "sentry"),
    "tests/unit/test_error_tracking.py": chosen("error_tracking", "sentry"),
    ".github/actionlint.yaml": lambda answers: bool(self_hosted_labels(answers)),
    **{path: chosen("deploy_target", *TARGETS) for path in DEPLOY_PATHS},
    **owned_by_platforms(),
}
# A folder of this name holds templates rendered once per environment, into a folder named
# after it (cookiecutter renders a file once; see `post_generation`).
PER_ENVIRONMENT = "__environment__"
TEMPLATE_PROJECT = ROOT / "{{cookiecutter.project_slug}}"

SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
GITHUB_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
VERSION = re.compile(r"^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?$")
ENVIRONMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
RUNNER_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# The runner labels GitHub hosts (and actionlint knows); any other label names a runner of your own.
GITHUB_HOSTED = re.compile(
    r"ubuntu-(latest(-\d+-cores)?|slim|\d\d\.04(-arm)?)"
    r"|windows-(latest(-\d+-cores)?|\d{4}(-vs\d{4})?|11(-vs\d{4})?-arm)"
    r"|macos-(latest|\d\d)(-intel|-large|-xlarge)?"
    r"|xcode-\d+(-xlarge)?"
)

# Kubernetes: the slug names the Deployment, Service (a DNS-1035 label), HPA, PDB, Secret and
# container and is the app.kubernetes.io/name label; an environment names a namespace (a
# DNS-1123 label) and is the app.kubernetes.io/instance label. All of them: at most 63 characters.
DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS_LABEL_MAX = 63
DNS_LABEL_INVALID = re.compile(r"[^a-z0-9-]+")

# Names Windows keeps for devices, in any case and with any extension: a folder so named (the
# package's, an environment's overlay) cannot be checked out on the windows-latest test runners.
WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)

# git check-ref-format --branch (`git help check-ref-format`): what git refuses, and why.
GIT_BRANCH_RULES = [
    (re.compile(r"^HEAD$"), "'HEAD' is git's name for the current commit"),
    (re.compile(r"^-"), "it starts with '-'"),
    (re.compile(r"[\x00-\x20\x7f~^:?*\[\\]"), "it holds a space, a control character or one of ~ ^ : ? * [ \\"),
    (re.compile(r"\.\."), "it holds '..'"),
    (re.compile(r"@\{"), "it holds '@{'"),
    (re.compile(r"^/|/$|//"), "it starts or ends with '/' or holds '//'"),
    (re.compile(r"(^|/)\."), "a part of it starts with '.'"),
    (re.compile(r"\.lock(/|$)"), "a part of it ends with '.lock'"),
    (re.compile(r"\.$"), "it ends with '.'"),
]
# What the pipeline also needs of a branch: it is a workflow branch filter (where * ? + ! [ are
# patterns), a quoted string in a workflow expression, and, '/' made '-', a container image tag.
PIPELINE_BRANCH = re.compile(r"^[A-Za-z0-9._/-]+$")
IMAGE_TAG_MAX = 128

# Unicode categories no answer may hold: controls (DEL, newlines...), line and paragraph separators,
# lone surrogates, and invisible format characters (right-to-left overrides, zero-width spaces),
# which make a file read differently from what it holds. An answer is one line of visible text;
# replay and config files can carry anything.
NOT_ONE_LINE = {"Cc", "Cf", "Cs", "Zl", "Zp"}

# Module names the project's package must not take: Python's own, its dependencies', its own files'.
# The standard library of every Python the template accepts: this interpreter's, the modules
# removed since 3.10 (PEP 594, distutils, imp) and those added after 3.11. In lower case, as compared.
STDLIB_MODULES = {name.lower() for name in sys.stdlib_module_names} | {
    "aifc", "asynchat", "asyncore", "audioop", "binhex", "cgi", "cgitb", "chunk", "crypt", "distutils",
    "imghdr", "imp", "lib2to3", "mailcap", "msilib", "nis", "nntplib", "ossaudiodev", "pipes", "smtpd",
    "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib",
    "annotationlib", "compression", "profiling", "tomllib",
    # CPython's own test suite, a package on sys.path that stdlib_module_names leaves out.
    "test",
}
PROJECT_TEMPLATE = ROOT / "{{cookiecutter.project_slug}}"


@cache
def project_modules() -> dict[str, str]:
    """Top-level modules the generated project holds besides its package, by name: the ones at its
    root (pytest puts the root on sys.path) and in scripts/ (pythonpath in pyproject.toml)."""
    found = {}
    for folder in (PROJECT_TEMPLATE, PROJECT_TEMPLATE / "scripts"):
        for path in folder.iterdir():
            name = path.stem if path.suffix == ".py" else path.name if (path / "__init__.py").exists() else ""
            if name.isidentifier():
                found[name.lower()] = path.relative_to(PROJECT_TEMPLATE).as_posix()
    return found


@cache
def locked_distributions() -> dict[str, set[str]]:
    """Every distribution locks.json pins, for any answers and either package manager: name -> versions."""
    pins: dict[str, set[str]] = {}
    for files in json.loads(LOCKS.read_text("utf-8")).values():
        for blocks in files.values():
            text = "".join(block["text"] for block in blocks)
            found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", text, flags=re.MULTILINE)
            found += re.findall(r'^name = "([^"<]+)"\nversion = "([^"]+)"', text, flags=re.MULTILINE)
            for name, version in found:
                pins.setdefault(normalized(name), set()).add(version)
    return pins


def normalized(distribution: str) -> str:
    """A distribution name as PyPA compares them (PEP 503): 'Prometheus_Client' -> 'prometheus-client'."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


@cache
def dependency_modules() -> dict[str, str]:
    """The top-level modules of the locked distributions: module -> distribution."""
    return {
        module.lower(): distribution
        for distribution, modules in json.loads(IMPORT_NAMES.read_text("utf-8")).items()
        for module in modules
    }


class AnswerError(ValueError):
    """An answer that cannot be used; the message names the variable and what is accepted."""


@dataclass(frozen=True)
class Environment:
    """A deploy environment: deployed on a push to `branch`, or promoted after `after`."""

    name: str
    branch: str | None = None
    after: str | None = None

    @property
    def job(self) -> str:
        return f"deploy-{self.name.lower()}"

    @property
    def dns_label(self) -> str:
        """The name as Kubernetes namespaces and labels take it: 'Prod_EU' -> 'prod-eu'."""
        return DNS_LABEL_INVALID.sub("-", self.name.lower()).strip("-")


def split_list(text: str) -> list[str]:
    """'a, b,c' -> ['a', 'b', 'c']"""
    return [item.strip() for item in str(text).split(",") if item.strip()]


def parse_environments(text: str) -> list[Environment]:
    """Parse 'staging:develop, production:main' or a chain 'dev:main -> qa -> production'."""
    environments: list[Environment] = []
    for group in split_list(text):
        head, *promotions = [part.strip() for part in group.split("->")]
        name, sep, branch = (part.strip() for part in head.partition(":"))
        if not sep or not branch:
            raise AnswerError(
                f"environments: {group!r} must start with 'name:branch' (the branch whose pushes deploy it)"
            )
        environments.append(Environment(name, branch=branch))
        for promoted in promotions:
            if ":" in promoted:
                raise AnswerError(
                    f"environments: {promoted!r} follows '->' so it is promoted, not deployed from a branch;"
                    " write 'name:branch' only at the start of a chain"
                )
            environments.append(Environment(promoted, after=environments[-1].name))
    return environments


def check_environments(text: str) -> list[Environment]:
    environments = parse_environments(text)
    if not environments:
        raise AnswerError("environments: give at least one, such as 'production:main'")
    by_label: dict[str, str] = {}
    for env in environments:
        if not ENVIRONMENT.match(env.name):
            raise AnswerError(
                f"environments: {shown(env.name)} is not a usable environment name;"
                " use letters, digits, '-' and '_', starting with a letter or digit"
            )
        if WINDOWS_RESERVED.match(env.name):
            raise AnswerError(
                f"environments: {env.name!r} names a device on Windows, so its overlay folder cannot be"
                " checked out there; choose another name"
            )
        if len(env.name) > DNS_LABEL_MAX:
            raise AnswerError(
                f"environments: {shown(env.name)} is {len(env.name)} characters; it names a Kubernetes"
                f" namespace and label, which take at most {DNS_LABEL_MAX}: shorten it"
            )
        if not DNS_1123_LABEL.match(env.dns_label):
            raise AnswerError(f"environments: {shown(env.name)} gives no Kubernetes namespace name")
        if env.dns_label in by_label:
            other = by_label[env.dns_label]
            why = "GitHub ignores case" if other.lower() == env.name.lower() else (
                f"both become the Kubernetes namespace {env.dns_label!r}"
            )
            raise AnswerError(f"environments: {env.name!r} and {other!r} name one environment ({why}); rename one")
        by_label[env.dns_label] = env.name
        if env.branch is not None:
            problem = branch_problem(env.branch)
            if problem:
                raise AnswerError(f"environments: branch {shown(env.branch)} {problem}")
    return environments


def branch_problem(branch: str) -> str | None:
    """Why a branch cannot deploy: git's own rules first, then the pipeline's; None if it can."""
    for rule, reason in GIT_BRANCH_RULES:
        if rule.search(branch):
            return f"is not a valid git branch name: {reason}"
    if not PIPELINE_BRANCH.match(branch):
        return (
            "is a git branch name, but the pipeline also makes it a workflow branch filter and an"
            " image tag: use letters, digits, '.', '_', '-' and '/'"
        )
    if len(branch) > IMAGE_TAG_MAX:
        return f"is {len(branch)} characters; it becomes an image tag, which takes at most {IMAGE_TAG_MAX}"
    return None


def shown(value: object, limit: int = 70) -> str:
    """A value as an error message shows it: quoted, escaped, and cut short if long."""
    text = str(value)
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"


def python_versions(text: str) -> list[str]:
    """The answered versions, oldest first."""
    return sorted(split_list(text), key=lambda v: tuple(int(part) for part in v.split(".") if part.isdigit()))


def newest_python(answers: dict) -> str:
    """The Python of the runtime image: distroless dictates its own."""
    if answers["container_base"] == "distroless":
        return DISTROLESS_PYTHON
    return python_versions(answers["python_versions"])[-1]


def check(answers: dict, today: date | None = None) -> list[str]:
    """Raise AnswerError for the first bad answer; return warnings for usable but doubtful ones."""
    today = today or date.today()
    warnings: list[str] = []
    for name, allowed in CHOICES.items():
        if answers[name] not in allowed:
            raise AnswerError(f"{name}: {answers[name]!r} is not one of {', '.join(allowed)}")
    for name in ANSWER_NAMES:
        odd = [char for char in str(answers[name]) if unicodedata.category(char) in NOT_ONE_LINE]
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
    if slug in locked_distributions():
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
        raise AnswerError(f"author_email: {shown(email)} reads back from package metadata as {shown(written.addr_spec)}")
    if written.display_name != name:
        raise AnswerError(
            f"author_name: {shown(name)} reads back from package metadata as {shown(written.display_name)}"
        )


def check_or_exit(answers: dict, warn: bool = True) -> None:
    """One line per problem on stderr, exit 1 on a bad answer.

    The cookiecutter.json entry `__answers_checked` runs this in cookiecutter's own process, before
    anything is written (so nothing but the line is printed); the pre-generation hook runs it again
    for replayed answers, which skip that entry, and prints the warnings.
    """
    try:
        warnings = check(answers)
    except AnswerError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    for warning in warnings if warn else ():
        print(f"warning: {warning}", file=sys.stderr)


PACKAGE_FOLDER = "{{cookiecutter.package_name}}"


def baked_path(relative: str, answers: dict) -> str:
    """A manifest path as it is in the baked project: the package folder takes its name."""
    return relative.replace(PACKAGE_FOLDER, answers["package_name"])


def paths_to_prune(answers: dict) -> list[str]:
    """The paths KEPT_WHEN switches off for these answers, then the folders they leave empty."""
    pruned = [path for path, keep in KEPT_WHEN.items() if not keep(answers)]
    folders = sorted({path.rpartition("/")[0] for path in pruned} - {""})
    while folders:
        folder = folders.pop()
        entries = {entry.relative_to(TEMPLATE_PROJECT).as_posix() for entry in (TEMPLATE_PROJECT / folder).iterdir()}
        if folder not in pruned and entries <= set(pruned):
            pruned.append(folder)
            if "/" in folder:
                folders.append(folder.rpartition("/")[0])
    return [baked_path(path, answers) for path in pruned]


def kept(path: str, answers: dict) -> bool:
    """Whether the baked project holds `path` (a template path, as in KEPT_WHEN)."""
    path = baked_path(path, answers)
    return not any(path == pruned or path.startswith(f"{pruned}/") for pruned in paths_to_prune(answers))


def deploy_branches(answers: dict) -> list[str]:
    """The branches whose pushes deploy, in the answer's order, each once: the branch filter of
    ci.yml, the rulesets, the push identity's trust and the image tags."""
    return list(dict.fromkeys(env.branch for env in check_environments(answers["environments"]) if env.branch))


@cache
def _locks(mtime_ns: int) -> dict:
    """locks.json parsed once per process while unchanged (the tests bake hundreds of times)."""
    return json.loads(LOCKS.read_text("utf-8"))


def lock_files(answers: dict) -> dict[str, str]:
    """The lock files of the answered package manager, from locks.json (see scripts/lock_dependencies.py)."""
    if not LOCKS.exists():  # only while scripts/lock_dependencies.py makes it for the first time
        return {}
    placeholders = {
        "<<project_slug>>": answers["project_slug"],
        "<<version>>": answers["version"],
        "<<oldest_python>>": python_versions(answers["python_versions"])[0],
    }
    files = {}
    for name, blocks in _locks(LOCKS.stat().st_mtime_ns)[answers["package_manager"]].items():
        text = "".join(block["text"] for block in blocks if holds(block.get("when"), answers))
        for placeholder, value in placeholders.items():
            text = text.replace(placeholder, value)
        files[name] = text
    return files


def holds(when: dict | None, answers: dict) -> bool:
    return when is None or [answers[name] for name in when["answers"]] in when["cases"]


def post_generation(answers: dict, render: Callable[[str, Environment], str]) -> dict:
    """What the post-generation hook does, worked out in the bake's own process (where Jinja is
    loaded already), so that the hook itself needs only the standard library:

    - "remove": the paths the answers switched off, then the `__environment__` folders;
    - "write": {path: text} for the lock files, and for each kept `__environment__` folder its
      files rendered once per environment (`render(source, environment)`) into a sibling folder
      named after the environment (cookiecutter renders a file only once).
    """
    pruned = paths_to_prune(answers)
    files = lock_files(answers)
    folders = []
    for folder in sorted(TEMPLATE_PROJECT.rglob(PER_ENVIRONMENT)):
        baked = baked_path(folder.relative_to(TEMPLATE_PROJECT).as_posix(), answers)
        folders.append(baked)
        if any(baked == path or baked.startswith(f"{path}/") for path in pruned):
            continue
        for source in sorted(p for p in folder.rglob("*") if p.is_file()):
            text = source.read_text("utf-8")
            for environment in check_environments(answers["environments"]):
                target = f"{baked.rpartition('/')[0]}/{environment.name}/{source.relative_to(folder).as_posix()}"
                files[target] = render(text, environment)
    return {"remove": [*pruned, *folders], "write": files}


def self_hosted_labels(answers: dict) -> list[str]:
    """The `runner` labels GitHub does not host: actionlint must be told they exist."""
    return [label for label in split_list(answers["runner"]) if not GITHUB_HOSTED.fullmatch(label)]


def ci_caches(answers: dict) -> bool:
    """Whether ci.yml's jobs restore dependency caches: not when a deploy branch is named for
    releases (`release/next`), whose runs are taken to ship, so nothing cached may feed them."""
    return not any(
        "release" in env.branch.lower() for env in check_environments(answers["environments"]) if env.branch
    )


def runs_on(answers: dict) -> str:
    """The `runs-on` of the jobs outside the test matrix, as YAML. A pull request from a fork runs a
    stranger's code: with runners of your own, those pull requests go to GitHub's ubuntu-latest."""
    labels = split_list(answers["runner"])
    if not self_hosted_labels(answers):
        return quoted(labels[0]) if len(labels) == 1 else "[" + ", ".join(map(quoted, labels)) + "]"
    # An expression has no list literal: several labels come from JSON.
    answered = f"'{labels[0]}'" if len(labels) == 1 else f"fromJSON('{json.dumps(labels)}')"
    return quoted(f"${{{{ github.event.pull_request.head.repo.fork && 'ubuntu-latest' || {answered} }}}}")


@dataclass(frozen=True)
class Job:
    """A job of the generated ci.yml: what it does, the jobs it waits for, and when it runs."""

    id: str
    does: str
    needs: tuple[str, ...] = ()
    when: str = ""


def pipeline(answers: dict) -> dict[str, Job]:
    """The jobs of ci.yml by id, in order. The workflow takes its job list and `needs` from here and
    the README draws its diagram from here, so the diagram is the pipeline as generated.

    Checks, tests and the image build start together; only the push waits, for all of them.
    """
    lint = "ruff format --check, ruff check" if answers["code_style"] == "ruff" else "black --check, flake8"
    audit = {"pip-audit": "pip-audit --strict", "safety": "safety scan"}.get(answers["dependency_audit"])
    versions = ", ".join(python_versions(answers["python_versions"]))
    systems = ", ".join(split_list(answers["os_matrix"]))
    jobs = [
        Job("lint", lint),
        Job("bandit", "security lint, SARIF to code scanning"),
        *([Job("audit", audit)] if audit else []),
        Job("dependency-review", "advisories of the dependencies it changes", when="pull requests"),
        Job("test", f"unit + integration tests, coverage gate; Python {versions} on {systems}"),
    ]
    if answers["container_registry"] != "none":
        gates = tuple(job.id for job in jobs if not job.when)
        pushes = " or ".join(deploy_branches(answers))
        jobs += [
            Job("image", "build the image, Trivy scan"),
            Job("build", f"push to {answers['container_registry']}, SBOM, attested provenance", (*gates, "image"),
                when=f"push to {pushes}"),
        ]
    jobs.append(Job("ci-ok", "the one required check", tuple(job.id for job in jobs)))
    if answers["codecov"] == "yes":
        # Apart from the tests: the OIDC token never meets the code under review.
        jobs.append(Job("coverage", "the tests' coverage.xml to Codecov by OIDC, no project code", ("test",),
                        when="not from forks"))
    if answers["deploy_target"] != "none":
        # The same image, by digest, along the environments: from a branch push, or promoted
        # once the environment before it deployed and passed its smoke test.
        for environment in check_environments(answers["environments"]):
            after = f"deploy-{environment.after.lower()}" if environment.after else None
            jobs.append(Job(
                environment.job,
                f"{answers['deploy_target']} to {environment.name}, smoke test, rollback",
                ("build", after) if after else ("build",),
                when=f"push to {environment.branch}" if environment.branch else "",
            ))
    return {job.id: job for job in jobs}


def quoted(value: object) -> str:
    """A double-quoted string that is valid in YAML, TOML and Python alike, on one line: every
    character that is not printable (controls, DEL, line separators) is a \\u or \\U escape."""
    return "".join(
        char if char.isprintable() or char == " " else
        f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"
        for char in json.dumps(str(value), ensure_ascii=False)
    )


def dockerfile_quoted(value: object) -> str:
    """A double-quoted Dockerfile word, taken literally: no variable expansion, one line."""
    text = " ".join(str(value).split())
    for special in ("\\", '"', "$"):
        text = text.replace(special, "\\" + special)
    return f'"{text}"'


def uses(action: str) -> str:
    """'actions/checkout' -> 'actions/checkout@<sha> # v7.0.1', from github-actions-pins.json."""
    owner_repo = "/".join(action.split("/")[:2])
    pin = PINS[owner_repo]
    return f"{action}@{pin['sha']} # {pin['version']}"
