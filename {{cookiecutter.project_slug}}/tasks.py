#!/usr/bin/env python3
"""Project tasks, the same on Linux, macOS and Windows: `python tasks.py TASK ...`.

CI runs these very tasks, so a green run here means a green run there. Whichever
`python` runs this file, the tools run with the project's own interpreter: `.venv`'s
once it exists. `dev` and `serve` read `.env` first (local runs only, never in images).
What this file says itself (the commands it runs, why it refuses) goes to stderr: a
task's stdout is its tools' own, such as the server's JSON log lines.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess  # nosec B404 - runs this project's own tools with fixed arguments
import sys
from importlib.util import find_spec
from pathlib import Path
{%- set branches = deploy_branches(cookiecutter) %}

PACKAGE = "{{ cookiecutter.package_name }}"
OLDEST = "{{ cookiecutter.python_versions | python_versions | first }}"  # requires-python
HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
VENV_PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
# The branch `init` starts: the one production deploys from.
MAIN_BRANCH = "{{ branches[-1] if branches else "main" }}"
{%- if cookiecutter.package_manager == "pip" %}
# One resolution for every platform and every Python from the oldest on, with hashes.
COMPILE = f"uv pip compile --universal --generate-hashes --python-version {OLDEST}"
GROUPS = "--group pyproject.toml:test --group pyproject.toml:lint"
GROUPS += " --group pyproject.toml:bandit"
{%- if cookiecutter.dependency_audit != "none" %}
GROUPS += " --group pyproject.toml:audit"
{%- endif %}
{%- endif %}
BANDIT = "python -m bandit -c pyproject.toml -r ."
{%- set audit_sync = "" %}
{%- if cookiecutter.package_manager == "uv" %}
{%- if cookiecutter.dependency_audit != "none" %}
# `install` leaves out bandit's and the audit's groups, dozens of packages no test uses
# (and structlog imports bandit's rich wherever it is installed): those tasks add them.
{%- else %}
# `install` leaves out bandit's group, a dozen packages no test uses (and structlog
# imports bandit's rich wherever it is installed): `bandit` adds it.
{%- endif %}
SYNC = "uv sync --locked --group test --group lint"
{%- if cookiecutter.dependency_audit != "none" %}
{%- set audit_sync = "SYNC_ALL, " %}
# `audit` installs every group, then audits all that is installed.
SYNC_ALL = "uv sync --locked --all-groups"
{%- endif %}
{%- endif %}
# What is measured (the package and scripts/) is set in pyproject.toml.
COVERAGE = "--cov --cov-report=term"
if os.environ.get("CI"):  # GitHub sets it
    # coverage.xml, which CI uploads: writing it takes a tenth of a local run.
    COVERAGE += " --cov-report=xml"


def python() -> str:
    """The project's interpreter: .venv's if there is one, else the one running this
    file (an activated environment, or CI's own Python)."""
    return str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable


def say(text: str) -> None:
    """tasks.py's own words: to stderr, leaving stdout to the tools."""
    print(text, file=sys.stderr, flush=True)


def check_python() -> int:
    """A clear word before installing on a Python the project does not run on, or into a
    Python of the system's (CI's own Python is a throwaway: it may take the install)."""
    outside_a_venv = not VENV.exists() and sys.prefix == sys.base_prefix
    if outside_a_venv and not os.environ.get("CI"):
        say("No .venv here, and this python is no virtual environment:")
        say("make one first (python -m venv .venv), not to install into the system's")
        return 1
    probe = "import sys; print('%d.%d' % sys.version_info[:2])"
    found = subprocess.run(  # nosec B603 - a fixed command
        [python(), "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    if tuple(map(int, found.split("."))) >= tuple(map(int, OLDEST.split("."))):
        return 0
    advice = " Remove .venv, make it with a newer python." if VENV.exists() else ""
    say(f"{python()} is Python {found}; the project needs {OLDEST}+.{advice}")
    return 1


def read_dotenv(path: Path = HERE / ".env") -> dict[str, str]:
    """NAME=value lines of .env, as docker compose reads them: # comments, quotes."""
    values = {}
    if not path.is_file():
        return values
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.removeprefix("export ").partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name.isidentifier():
            raise SystemExit(f"{path}:{number}: expected NAME=value, not {line!r}")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


def local_environment(task: str) -> dict[str, str] | None:
    """What `dev` and `serve` run with: .env, then the environment, which wins."""
    if task not in ("dev", "serve"):
        return None
    env = {**read_dotenv(), **os.environ}
    if task == "dev":
        env["APP_ENV"] = "development"
        env.setdefault("FLASK_RUN_PORT", env.get("PORT", "8000"))
        # .env is read here: no tip from Flask to install python-dotenv to read it.
        env.setdefault("FLASK_SKIP_DOTENV", "1")
    else:  # this machine only, like Flask's server; the image listens on all addresses
        env.setdefault("GUNICORN_BIND", f"127.0.0.1:{env.get('PORT', '8000')}")
    return env


def init() -> int:
    """A git repository on MAIN_BRANCH (unless this is one) whose pre-commit hook runs
    `tasks.py lint`, so nothing the lint job would refuse gets committed."""
    git = shutil.which("git")
    if not git:
        say("git is not installed or not on PATH")
        return 127
    top = subprocess.run(  # nosec B603 - fixed commands
        [git, "rev-parse", "--show-toplevel"], cwd=HERE, capture_output=True, text=True
    )
    if top.returncode:
        subprocess.check_call([git, "init", "-q", "-b", MAIN_BRANCH], cwd=HERE)  # nosec
    elif Path(top.stdout.strip()).resolve() != HERE.resolve():
        # Its hook would lint every commit of that repository with this tasks.py, and
        # GitHub reads workflows only at a repository's root.
        say(
            f"{HERE} is inside the git repository {top.stdout.strip()}: move the"
            " project out of it (it is meant to be a repository of its own),"
            " then run init again"
        )
        return 1
    hooks = subprocess.check_output(  # nosec B603
        [git, "rev-parse", "--git-path", "hooks"], cwd=HERE, text=True
    )
    hook = HERE / hooks.strip() / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    # Any Python runs tasks.py, which runs the lint with the project's own tools.
    interpreter = Path(sys.executable).as_posix()
    hook.write_text(f'#!/bin/sh\nexec "{interpreter}" tasks.py lint\n', "utf-8")
    hook.chmod(0o755)
    print(f"{hook.relative_to(HERE).as_posix()}: runs tasks.py lint before a commit")
    return 0


TASKS = {
{%- if cookiecutter.package_manager == "uv" %}
    # uv makes .venv with the Python named in .python-version.
    "install": [SYNC],
    "lock": ["uv lock --upgrade"],
{%- else %}
    "install": [
        check_python,
        "python -m pip install -r requirements.txt -r requirements-test.txt",
        "python -m pip install --no-deps -e .",
    ],
    # Re-pin everything at the newest versions (needs uv: `pipx install uv`).
    "lock": [
        f"{COMPILE} pyproject.toml -o requirements.txt",
        f"{COMPILE} {GROUPS} -c requirements.txt -o requirements-test.txt",
    ],
{%- endif %}
{%- if cookiecutter.code_style == "ruff" %}
    "format": ["python -m ruff format .", "python -m ruff check --fix ."],
    "lint": ["python -m ruff format --check .", "python -m ruff check ."],
{%- else %}
    "format": ["python -m black ."],
    "lint": ["python -m black --check .", "python -m flake8 ."],
{%- endif %}
    # A JSON report to keep, SARIF for code scanning, then the findings, failing on any.
    "bandit": [
{%- if cookiecutter.package_manager == "uv" %}
        f"{SYNC} --group bandit",
{%- endif %}
        f"{BANDIT} -q --exit-zero -f json -o bandit-report.json",
        f"{BANDIT} -q --exit-zero -f sarif -o bandit.sarif",
        BANDIT,
    ],
{%- if cookiecutter.dependency_audit == "pip-audit" %}
    # The installed packages against PyPI's advisories; --strict: unchecked is failed.
    "audit": [{{ audit_sync }}"python -m pip_audit --strict --skip-editable"],
{%- elif cookiecutter.dependency_audit == "safety" %}
    # Safety's database needs an API key: SAFETY_API_KEY in the environment.
    "audit": [{{ audit_sync }}"python -m safety --stage cicd scan"],
{%- endif %}
    "test-unit": [f"python -m pytest tests/unit/ {COVERAGE}"],
    "test-integration": ["python -m pytest tests/integration/"],
    # Both on http://127.0.0.1:8000 (PORT), with .env.
    "dev": [f"python -m flask --app {PACKAGE}.wsgi run --debug"],
    "serve": [f"python -m gunicorn -c gunicorn.conf.py {PACKAGE}.wsgi:app"],
    # The Dockerfile's base images by digest (docker buildx or crane); review the diff.
    "pin-images": ["python scripts/pin_images.py Dockerfile"],
    "init": [init],
}
TASKS["test"] = TASKS["test-unit"] + TASKS["test-integration"]
TASKS["check"] = TASKS["lint"] + TASKS["bandit"] + TASKS["test"]


def run(task: str) -> int:
    env = local_environment(task)
    for command in TASKS[task]:
        if callable(command):
            returncode = command()
        else:
            say(f"$ {command}")
            returncode = call(shlex.split(command), env)
        if returncode:
            return returncode
    return 0


def call(argv: list[str], env: dict[str, str] | None) -> int:
    program, *args = argv
    if program == "python":
        program = python()
    elif program == "uv" and not shutil.which("uv") and find_spec("uv"):
        # Installed by pip into a Python whose scripts folder is not on PATH.
        program, args = sys.executable, ["-m", "uv", *args]
    elif not shutil.which(program):
        say(f"{program} is not installed or not on PATH")
        return 127
    child = subprocess.Popen([program, *args], cwd=HERE, env=env)  # nosec B603
    # Stopping tasks.py stops its command: SIGTERM is passed on, and Ctrl-C, which the
    # command gets too, waits for it to finish stopping instead of leaving a traceback.
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            continue


def main(tasks: list[str]) -> int:
    if not tasks or any(task not in TASKS for task in tasks):
        say("usage: python tasks.py TASK [TASK ...]")
        say(f"tasks: {', '.join(TASKS)}")
        return 2
    for task in tasks:
        if returncode := run(task):
            return returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
