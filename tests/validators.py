"""The validators a generated project's GitHub files must satisfy, for any test to reuse.

Each takes one baked project or several (one call over many projects is much faster than one per
project), asserts that the tool found nothing, and fails with the tool's own output otherwise.
Each also makes sure it checked something: a validator that saw no file would pass anything.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

# The tools come from the same environment as pytest (requirements-dev.txt).
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = BIN / name
    assert os.access(path, os.X_OK), f"{name} is missing from {BIN}: install requirements-dev.txt"
    return str(path)


def paths(projects) -> list[Path]:
    """Baked projects (or their paths) as paths."""
    return [Path(getattr(project, "path", project)) for project in projects]


def workflows(project: Path) -> list[Path]:
    return sorted((project / ".github" / "workflows").glob("*.y*ml"))


def run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


def output(result: subprocess.CompletedProcess) -> str:
    return f"--- stdout\n{result.stdout[-20000:]}\n--- stderr\n{result.stderr[-8000:]}"


def actionlint(*projects) -> int:
    """actionlint with shellcheck over each project's workflows, with the project's own config
    (.github/actionlint.yaml declares self-hosted runner labels). Returns the files checked."""
    # actionlint quietly skips shellcheck when it cannot run it: make sure it can.
    shellcheck = tool("shellcheck")
    assert run([shellcheck, "--version"]).returncode == 0, "shellcheck does not run"
    checked = 0
    for project in paths(projects):
        files = workflows(project)
        assert files, f"{project} has no workflows to lint"
        command = [tool("actionlint"), "-no-color", f"-shellcheck={shellcheck}"]
        config = project / ".github" / "actionlint.yaml"
        if config.exists():
            command.append(f"-config-file={config}")
        result = run([*command, *map(str, files)], cwd=project)
        assert result.returncode == 0, f"actionlint found problems in {project}\n{output(result)}"
        checked += len(files)
    return checked


def zizmor(*projects) -> int:
    """zizmor's pedantic persona, offline, over the workflows and dependabot.yml of every project.
    Returns the findings that ignore comments suppressed (reported, never hidden)."""
    dirs = paths(projects)
    command = [tool("zizmor"), "--offline", "--persona=pedantic", "--no-progress", "--color=never"]
    result = run([*command, *map(str, dirs)])
    assert result.returncode == 0, f"zizmor found problems\n{output(result)}"
    expected = [f for d in dirs for f in [*workflows(d), d / ".github" / "dependabot.yml"] if f.exists()]
    audited = set(re.findall(r"completed (\S+)", result.stderr))
    missed = [f for f in expected if not any(Path(a).resolve() == f.resolve() for a in audited)]
    assert not missed, f"zizmor did not audit {missed}\n{output(result)}"
    assert "No findings to report" in result.stdout, output(result)
    ignored = re.search(r"\((\d+) ignored", result.stdout)
    return int(ignored.group(1)) if ignored else 0


def check_schemas(*projects) -> int:
    """check-jsonschema's bundled (SchemaStore) schemas: every workflow and dependabot.yml.
    Returns the files checked."""
    dirs = paths(projects)
    checked = 0
    for schema, files in [
        ("vendor.github-workflows", [f for d in dirs for f in workflows(d)]),
        ("vendor.dependabot", [d / ".github" / "dependabot.yml" for d in dirs]),
    ]:
        files = [f for f in files if f.exists()]
        assert files, f"no files for {schema}"
        result = run([tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)])
        assert result.returncode == 0, f"{schema} rejects a file\n{output(result)}"
        checked += len(files)
    return checked
