"""The template's answers: how they are read and checked, and the pinned dependencies each
combination gets.

The bake works out in its own process what the hooks do, and writes it into them (see checks.py
and pruning.py); extension.py hands the parsing to the templates; the template's tests import
all of it. No Jinja here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

# The template's folder: this package's parent.
ROOT = Path(__file__).resolve().parents[1]
# The project's template: the folder cookiecutter renders.
TEMPLATE_PROJECT = ROOT / "{{cookiecutter.project_slug}}"
COOKIECUTTER_JSON = json.loads((ROOT / "cookiecutter.json").read_text("utf-8"))
ANSWER_NAMES = [name for name in COOKIECUTTER_JSON if not name.startswith("_")]
CHOICES = {name: COOKIECUTTER_JSON[name] for name in ANSWER_NAMES if isinstance(COOKIECUTTER_JSON[name], list)}
# A choice's default is its first value.
DEFAULT_ANSWERS = {name: CHOICES[name][0] if name in CHOICES else COOKIECUTTER_JSON[name] for name in ANSWER_NAMES}
# The generated project's lock files, one folder per answers that select them, and the day they
# were made (scripts/lock_dependencies.py writes both).
LOCKS = ROOT / "locks"
LOCKS_MADE = LOCKS / "made.json"
# Older locks than this make the bake warn: pip-audit --strict gates a generated project's push.
LOCKS_MAX_AGE_DAYS = 30
# The modules each locked distribution installs (scripts/import_names.py reads them from the wheels).
IMPORT_NAMES = ROOT / "import-names.json"

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

ENVIRONMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")

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


@cache
def locked_distributions() -> dict[str, set[str]]:
    """Every distribution locks/ pins, for any answers and either package manager: name -> versions."""
    pins: dict[str, set[str]] = {}
    for path in LOCKS.glob("*/*/*"):
        text = path.read_text("utf-8")
        found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", text, flags=re.MULTILINE)
        found += re.findall(r'^name = "([^"<]+)"\nversion = "([^"]+)"', text, flags=re.MULTILINE)
        for name, version in found:
            pins.setdefault(normalized(name), set()).add(version)
    return pins


@cache
def import_names() -> dict[str, list[str]]:
    """import-names.json: each distribution locks/ pins -> its modules. The bake's checks read this
    small file, not every lock (a test keeps the two naming the same distributions)."""
    return json.loads(IMPORT_NAMES.read_text("utf-8"))


def normalized(distribution: str) -> str:
    """A distribution name as PyPA compares them (PEP 503): 'Prometheus_Client' -> 'prometheus-client'."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


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
            why = (
                "GitHub ignores case"
                if other.lower() == env.name.lower()
                else (f"both become the Kubernetes namespace {env.dns_label!r}")
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


def lock_files(answers: dict) -> dict[str, str]:
    """The lock files of the answered package manager: from each folder of locks/<package manager>/
    whose name (`answer=value,...`, or `any`) the answers match (see scripts/lock_dependencies.py)."""
    placeholders = {
        "<<project_slug>>": answers["project_slug"],
        "<<version>>": answers["version"],
        "<<oldest_python>>": python_versions(answers["python_versions"])[0],
    }
    files = {}
    folders = LOCKS / answers["package_manager"]
    for folder in sorted(folders.iterdir()) if folders.is_dir() else ():
        pairs = [] if folder.name == "any" else [pair.split("=", 1) for pair in folder.name.split(",")]
        if all(answers[name] == value for name, value in pairs):
            for path in folder.iterdir():
                text = path.read_text("utf-8")
                for placeholder, value in placeholders.items():
                    text = text.replace(placeholder, value)
                files[path.name] = text
    return files


def stale_locks_warning(today: date) -> str | None:
    """One line for the bake to print when the locks are older than LOCKS_MAX_AGE_DAYS."""
    made = date.fromisoformat(json.loads(LOCKS_MADE.read_text("utf-8"))["made"])
    age = (today - made).days
    if age <= LOCKS_MAX_AGE_DAYS:
        return None
    return (
        f"warning: the pinned dependencies are {age} days old (locked on {made}): in the project, run"
        " `python tasks.py lock` and `python tasks.py install` to re-pin them at the newest versions,"
        " and test; the template's maintainers refresh them with scripts/lock_dependencies.py"
        " (the template's refresh workflow does it weekly)"
    )
