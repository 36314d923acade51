"""Day two: a generated project takes the template's fixes with cruft, as both READMEs say.

Create a project with cruft from a commit of the template (a temporary git copy of this
checkout), let the project make its own changes, change the template (a file and the locks),
then `cruft update`: the template's change arrives and the project's own edits survive."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def sh(*command, cwd: Path) -> str:
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{' '.join(map(str, command))}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def commit(repo: Path, message: str) -> None:
    sh("git", "add", "--all", cwd=repo)
    sh("git", "commit", "--quiet", "--message", message, cwd=repo)


def template_copy(where: Path) -> Path:
    """This checkout's files (as they are now) in a git repository of their own."""
    files = sh("git", "ls-files", "--cached", "--others", "--exclude-standard", cwd=ROOT).splitlines()
    for name in files:
        if (ROOT / name).is_file():
            (where / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, where / name)
    sh("git", "init", "--quiet", "-b", "main", cwd=where)
    commit(where, "the template")
    return where


@pytest.mark.long
def test_cruft_update_brings_template_fixes_and_keeps_the_projects_own(tmp_path):
    cruft = [sys.executable, "-m", "cruft"]
    template = template_copy(tmp_path / "template")
    (tmp_path / "out").mkdir()
    sh(*cruft, "create", template, "--no-input", "--output-dir", tmp_path / "out", cwd=tmp_path)
    project = tmp_path / "out" / "flask-service"
    assert (
        json.loads((project / ".cruft.json").read_text())["commit"]
        == sh("git", "rev-parse", "HEAD", cwd=template).strip()
    )
    sh("git", "init", "--quiet", "-b", "main", cwd=project)
    commit(project, "generated")

    # The project's own work: a module of its own, and a setting changed in a template file.
    (project / "src/flask_service/billing.py").write_text('"""Our own module."""\n')
    conf = project / "gunicorn.conf.py"
    conf.write_text(conf.read_text().replace("keepalive = 5", "keepalive = 7"))
    commit(project, "our own changes")

    # The template's fix: a line in the Dockerfile, and a re-pinned dependency in the locks.
    dockerfile = template / "{{cookiecutter.project_slug}}" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "# A fix from the template.\n")
    # Every requirements.txt under locks/ (a refresh rewrites them all), so whichever the bake took.
    old_pin = ""
    for lock in (template / "locks" / "pip").glob("*/requirements.txt"):
        old_pin = re.search(r"^gunicorn==\S+", lock.read_text(), flags=re.MULTILINE).group()
        lock.write_text(lock.read_text().replace(old_pin, "gunicorn==99.0.0", 1))
    assert old_pin, "no requirements.txt under locks/pip"
    commit(template, "a fix and a new lock")

    result = subprocess.run([*cruft, "check"], cwd=project, capture_output=True, text=True)
    assert result.returncode != 0, "cruft check must see the template moved on"
    sh(*cruft, "update", "--skip-apply-ask", cwd=project)

    assert (project / "Dockerfile").read_text().endswith("# A fix from the template.\n")
    assert "gunicorn==99.0.0" in (project / "requirements.txt").read_text()
    assert old_pin not in (project / "requirements.txt").read_text()
    assert (project / "src/flask_service/billing.py").exists()
    assert "keepalive = 7" in conf.read_text()
    sh(*cruft, "check", cwd=project)


def test_both_readmes_say_how_to_take_template_updates():
    assert "cruft create" in (ROOT / "README.md").read_text("utf-8")
    generated = (ROOT / "{{cookiecutter.project_slug}}" / "README.md").read_text("utf-8")
    assert "## Template updates" in generated and "cruft update" in generated
