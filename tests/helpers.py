"""Helpers for the template's tests: bake a project, then look at it."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import yaml

from flask_cicd import answers, checks

ROOT = answers.ROOT

COOKIECUTTER_JSON = answers.COOKIECUTTER_JSON
DEFAULTS = answers.DEFAULT_ANSWERS
CHOICES = answers.CHOICES
# The defaults as the hooks see them (derived names rendered), with the answers that constrain
# others at their most permissive: no deploy needs no registry.
RENDERED_DEFAULTS = {
    **DEFAULTS,
    "project_slug": "flask-service",
    "package_name": "flask_service",
}
PERMISSIVE = {**RENDERED_DEFAULTS, "deploy_target": "none"}
TEMPLATE_MARKERS = ("{{", "}}", "{%", "%}", "{#")


@dataclass
class Baked:
    """A baked project and the full set of answers that made it."""

    path: Path
    context: dict

    def __getitem__(self, relative: str) -> Path:
        return self.path / relative

    def exists(self, relative: str) -> bool:
        return (self.path / relative).exists()

    def files(self) -> list[Path]:
        return sorted(p for p in self.path.rglob("*") if p.is_file() and ".venv" not in p.parts)

    def text(self, relative: str) -> str:
        return (self.path / relative).read_text("utf-8")

    def yaml(self, relative: str):
        return yaml.safe_load(self.text(relative))

    def toml(self, relative: str) -> dict:
        return tomllib.loads(self.text(relative))

    def relative_files(self) -> set[str]:
        return {p.relative_to(self.path).as_posix() for p in self.files()}


def bake(cookies, **overrides) -> Baked:
    """Bake with the defaults plus `overrides`; fail the test with cookiecutter's error if it fails."""
    result = cookies.bake(extra_context=overrides)
    assert result.exit_code == 0, f"bake failed for {overrides}: {result.exception}"
    return Baked(Path(result.project_path), result.context)


class Bakes:
    """A session's bakes, one per distinct set of answers (the `baked` fixture in conftest.py)."""

    def __init__(self, cookies_session):
        self._cookies = cookies_session
        self._projects: dict[str, Baked] = {}

    def __call__(self, **overrides) -> Baked:
        key = json.dumps(overrides, sort_keys=True)
        if key not in self._projects:
            self._projects[key] = bake(self._cookies, **overrides)
        return self._projects[key]


def valid(row: dict[str, str]) -> bool:
    """Whether checks.check accepts `row`, the other answers taking their most permissive value."""
    try:
        checks.check({**PERMISSIVE, **row})
    except answers.AnswerError:
        return False
    return True


def pairwise(parameters: dict[str, list[str]], allowed=valid) -> list[dict[str, str]]:
    """Few combinations that together hold every allowed pair of values of every two parameters.

    Greedy and deterministic (stable test ids): each row starts from a pair not yet covered and
    fills the other parameters with the allowed values that cover the most new pairs.
    """
    names = list(parameters)

    def pairs(row: dict[str, str]) -> set:
        return {
            ((a, row[a]), (b, row[b]))
            for a, b in itertools.combinations(names, 2)
            if a in row and b in row
        }

    uncovered = {
        ((a, va), (b, vb))
        for a, b in itertools.combinations(names, 2)
        for va in parameters[a]
        for vb in parameters[b]
        if allowed({a: va, b: vb})
    }
    rows = []
    while uncovered:
        (a, va), (b, vb) = min(uncovered)
        row = {a: va, b: vb}
        for name in names:
            if name not in row:
                candidates = [v for v in parameters[name] if allowed({**row, name: v})]
                row[name] = max(
                    candidates, key=lambda value: len(pairs({**row, name: value}) & uncovered)
                )
        row = {name: row[name] for name in names}
        uncovered -= pairs(row)
        rows.append(row)
    return rows


def combination_id(row: dict[str, str]) -> str:
    return "-".join(value.replace("+", "_") for value in row.values())


def find_python(versions: list[str]) -> str:
    """An interpreter on this machine for one of `versions`, newest first; fails if there is none.

    The generated project's requires-python follows its answers, so the interpreter must match one.
    """
    for version in sorted(versions, key=lambda v: tuple(map(int, v.split("."))), reverse=True):
        candidates = [shutil.which(f"python{version}")]
        candidates += sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
        for candidate in filter(None, candidates):
            probe = subprocess.run([candidate, "--version"], capture_output=True, text=True)
            if probe.returncode == 0:
                return str(candidate)
    raise AssertionError(f"no Python {' or '.join(versions)} on this machine; install one to run this test")


def run(command: list[str], cwd: Path, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run a command; on failure, fail the test with its output."""
    result = subprocess.run(
        command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} exited {result.returncode} in {cwd}\n"
        f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
    )
    return result


# One uv cache for every virtual environment the tests and benchmarks make (.cache/ is git-ignored);
# conftest.py hands it to every uv the tests run, unless UV_CACHE_DIR names another.
UV_CACHE = ROOT / ".cache" / "uv"


def project_venv(project: Baked, venv: Path, groups: tuple[str, ...] = ("test", "lint")) -> Path:
    """A venv at `venv` with a baked pip project installed from its own pins; returns its python.

    The hashed requirements go in first (requirements-test.txt too when `groups` is not empty); then
    the project itself, editable, with `groups`, which adds only what pyproject.toml asks for beyond
    the pins (nothing, once they are fresh). Bytecode is compiled up front, as in an image.
    """
    uv = [sys.executable, "-m", "uv"]
    cache = os.environ.get("UV_CACHE_DIR", str(UV_CACHE))
    env = {"UV_CACHE_DIR": cache, "UV_NATIVE_TLS": "1", "UV_COMPILE_BYTECODE": "1"}
    python = find_python(answers.python_versions(project.context["python_versions"]))
    run([*uv, "venv", "--quiet", "--python", python, str(venv)], cwd=project.path, env=env)
    venv_python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    install = [*uv, "pip", "install", "--quiet", "--python", str(venv_python)]
    requirements = ["-r", "requirements.txt"] + (["-r", "requirements-test.txt"] if groups else [])
    run([*install, *requirements], cwd=project.path, env=env)
    run([*install, "-e", ".", *(f"--group={group}" for group in groups)], cwd=project.path, env=env)
    return venv_python
