#!/usr/bin/env python3
"""Project tasks, the same on Linux, macOS and Windows: `python tasks.py TASK ...`.

CI runs these very tasks, so a green run here means a green run there.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess  # nosec B404 - runs this project's own tools with fixed arguments
import sys

PACKAGE = "{{ cookiecutter.package_name }}"
{%- if cookiecutter.package_manager == "pip" %}
OLDEST = "{{ cookiecutter.python_versions | python_versions | first }}"  # in the test matrix
# One resolution for every platform and every Python from the oldest on, with hashes.
COMPILE = f"uv pip compile --universal --generate-hashes --python-version {OLDEST}"
GROUPS = "--group pyproject.toml:test --group pyproject.toml:lint"
{%- if cookiecutter.dependency_audit != "none" %}
GROUPS += " --group pyproject.toml:audit"
{%- endif %}
{%- endif %}
BANDIT = "python -m bandit -c pyproject.toml -r ."
# What is measured (the package and scripts/) is set in pyproject.toml.
COVERAGE = "--cov --cov-report=term --cov-report=xml"

# "python" below is the interpreter running this file, so the tools come from its venv.
TASKS = {
{%- if cookiecutter.package_manager == "uv" %}
    "install": ["uv sync --locked --all-groups"],
    "lock": ["uv lock --upgrade"],
{%- else %}
    "install": [
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
        f"{BANDIT} -q --exit-zero -f json -o bandit-report.json",
        f"{BANDIT} -q --exit-zero -f sarif -o bandit.sarif",
        BANDIT,
    ],
{%- if cookiecutter.dependency_audit == "pip-audit" %}
    # The installed packages against PyPI's advisories; --strict: unchecked is failed.
    "audit": ["python -m pip_audit --strict --skip-editable"],
{%- elif cookiecutter.dependency_audit == "safety" %}
    # Safety's database needs an API key: SAFETY_API_KEY in the environment.
    "audit": ["python -m safety --stage cicd scan"],
{%- endif %}
    "test-unit": [f"python -m pytest tests/unit/ {COVERAGE}"],
    "test-integration": ["python -m pytest tests/integration/"],
    "dev": [f"python -m flask --app {PACKAGE}.wsgi run --debug"],
    "serve": [f"python -m gunicorn -c gunicorn.conf.py {PACKAGE}.wsgi:app"],
    # The Dockerfile's base images by digest (docker buildx or crane); review the diff.
    "pin-images": ["python scripts/pin_images.py Dockerfile"],
}
TASKS["test"] = TASKS["test-unit"] + TASKS["test-integration"]
TASKS["check"] = TASKS["lint"] + TASKS["bandit"] + TASKS["test"]


def run(task: str) -> int:
    env = {**os.environ, "APP_ENV": "development"} if task == "dev" else None
    for command in TASKS[task]:
        print("$", command, flush=True)
        program, *args = shlex.split(command)
        if program == "python":
            program = sys.executable
        elif not shutil.which(program):
            print(f"{program} is not installed or not on PATH", file=sys.stderr)
            return 127
        argv = [program, *args]
        if returncode := subprocess.call(argv, env=env):  # nosec B603 - fixed commands
            return returncode
    return 0


def main(tasks: list[str]) -> int:
    if not tasks or any(task not in TASKS for task in tasks):
        print("usage: python tasks.py TASK [TASK ...]", file=sys.stderr)
        print("tasks:", ", ".join(TASKS), file=sys.stderr)
        return 2
    for task in tasks:
        if returncode := run(task):
            return returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
