"""The template's own Python (flask_cicd/, hooks/, scripts/, tests/, benchmarks/) is ruff-clean:
lint and format, with the settings in pyproject.toml. The generated project checks its own."""

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

RUFF = str(Path(sys.executable).parent / "ruff")
PROJECT = "{{cookiecutter.project_slug}}"


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RUFF, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_ruff_looks_at_every_python_file_of_the_template_and_none_of_the_project():
    listed = {Path(line).resolve() for line in ruff("check", "--show-files", ".").stdout.splitlines()}
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    ours = {(ROOT / name).resolve() for name in tracked.stdout.splitlines() if not name.startswith(PROJECT)}
    assert ours and ours <= listed
    assert not [path for path in listed if PROJECT in path.parts]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_passes_on_the_template_s_own_python(command):
    result = ruff(*command, ".")
    assert result.returncode == 0, result.stdout + result.stderr
