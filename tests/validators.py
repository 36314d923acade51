"""The validators a generated project's GitHub files must satisfy, for any test to reuse: the
tools (actionlint, zizmor, check-jsonschema) and the pin rule (`assert_pinned`).

Each takes one baked project or several (one call over many projects is much faster than one per
project), asserts that the tool found nothing, and fails with the tool's own output otherwise.
Each also makes sure it checked something: a validator that saw no file would pass anything.
A validator runs once per distinct content in a session: a project whose GitHub files already
passed it (the same bake shared by several tests, or the same files from other answers) passes
again without running the tool; a failure is never remembered.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

from flask_cicd import pins

# The tools come from the same environment as pytest (requirements-dev.txt).
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = BIN / name
    assert os.access(path, os.X_OK), f"{name} is missing from {BIN}: install requirements-dev.txt"
    return str(path)


def paths(projects) -> list[Path]:
    """Baked projects (or their paths) as paths."""
    return [Path(getattr(project, "path", project)) for project in projects]


# (validator, digest of a project's GitHub files) -> what the validator returned for it.
PASSED: dict[tuple[str, str], int] = {}


# What the validators read outside .github/ (workflows, their configuration, local actions).
ROOT_CONFIGS = (".shellcheckrc", "zizmor.yml")


def digest(project: Path) -> str:
    """The content of every file a validator reads in `project`."""
    content = hashlib.sha256()
    for path in [*sorted((project / ".github").rglob("*")), *(project / name for name in ROOT_CONFIGS)]:
        if path.is_file():
            content.update(f"{path.relative_to(project).as_posix()}\0".encode() + path.read_bytes() + b"\0")
    return content.hexdigest()


def unchecked(validator: str, projects: list[Path]) -> tuple[list[Path], int]:
    """The projects `validator` has not yet passed in this session, and the sum of what it
    returned for the others."""
    digests = {project: digest(project) for project in projects}
    todo = [project for project in projects if (validator, digests[project]) not in PASSED]
    return todo, sum(PASSED[validator, digests[p]] for p in projects if p not in todo)


def passed(validator: str, project: Path, result: int) -> int:
    PASSED[validator, digest(project)] = result
    return result


def workflows(project: Path) -> list[Path]:
    return sorted((project / ".github" / "workflows").glob("*.y*ml"))


def own_actions(project: Path) -> list[Path]:
    """The project's own actions (.github/actions/<name>/action.yml)."""
    return sorted((project / ".github" / "actions").glob("*/action.y*ml"))


def capture(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    """A tool's run, its output captured; whether it passed is the caller's to judge."""
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


def output(result: subprocess.CompletedProcess) -> str:
    return f"--- stdout\n{result.stdout[-20000:]}\n--- stderr\n{result.stderr[-8000:]}"


def actionlint(*projects) -> int:
    """actionlint with shellcheck over each project's workflows, with the project's own config
    (.github/actionlint.yaml declares self-hosted runner labels). Returns the files checked."""
    # actionlint quietly skips shellcheck when it cannot run it: make sure it can.
    shellcheck = tool("shellcheck")
    assert capture([shellcheck, "--version"]).returncode == 0, "shellcheck does not run"
    todo, checked = unchecked("actionlint", paths(projects))
    for project in todo:
        files = workflows(project)
        assert files, f"{project} has no workflows to lint"
        command = [tool("actionlint"), "-no-color", f"-shellcheck={shellcheck}"]
        config = project / ".github" / "actionlint.yaml"
        if config.exists():
            command.append(f"-config-file={config}")
        result = capture([*command, *map(str, files)], cwd=project)
        assert result.returncode == 0, f"actionlint found problems in {project}\n{output(result)}"
        checked += passed("actionlint", project, len(files))
    return checked


def zizmor(*projects) -> int:
    """zizmor's pedantic persona, offline, over the workflows, own actions and dependabot.yml of
    every project.
    Returns the findings that ignore comments suppressed (reported, never hidden)."""
    dirs, ignored_before = unchecked("zizmor", paths(projects))
    if not dirs:
        return ignored_before
    command = [tool("zizmor"), "--offline", "--persona=pedantic", "--no-progress", "--color=never"]
    result = capture([*command, *map(str, dirs)])
    assert result.returncode == 0, f"zizmor found problems\n{output(result)}"
    expected = [
        f for d in dirs for f in [*workflows(d), *own_actions(d), d / ".github" / "dependabot.yml"] if f.exists()
    ]
    audited = set(re.findall(r"completed (\S+)", result.stderr))
    missed = [f for f in expected if not any(Path(a).resolve() == f.resolve() for a in audited)]
    assert not missed, f"zizmor did not audit {missed}\n{output(result)}"
    assert "No findings to report" in result.stdout, output(result)
    found = re.search(r"\((\d+) ignored", result.stdout)
    ignored = int(found.group(1)) if found else 0
    if not ignored:  # each project's own count is known only when they are all 0
        for project in dirs:
            passed("zizmor", project, 0)
    return ignored_before + ignored


def check_schemas(*projects) -> int:
    """check-jsonschema's bundled (SchemaStore) schemas: every workflow, own action and dependabot.yml.
    Returns the files checked."""
    dirs, checked = unchecked("check-jsonschema", paths(projects))
    if not dirs:
        return checked
    for schema, files in [
        ("vendor.github-workflows", [f for d in dirs for f in workflows(d)]),
        ("vendor.dependabot", [d / ".github" / "dependabot.yml" for d in dirs]),
        ("vendor.github-actions", [f for d in dirs for f in own_actions(d)]),
    ]:
        files = [f for f in files if f.exists()]
        if schema == "vendor.github-actions" and not files:
            continue  # the template's own .github has no actions of its own
        assert files, f"no files for {schema}"
        result = capture([tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)])
        assert result.returncode == 0, f"{schema} rejects a file\n{output(result)}"
        checked += len(files)
    for project in dirs:
        mine = len(workflows(project)) + len(own_actions(project)) + (project / ".github" / "dependabot.yml").exists()
        passed("check-jsonschema", project, mine)
    return checked


USES = re.compile(r"^\s*(?:- )?uses: (.*)$", re.MULTILINE)
PINNED = re.compile(r"(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40}) # (?P<version>v\d+\.\d+\.\d+)")


def assert_pinned(text: str) -> None:
    """Every action a workflow uses pinned by full commit SHA with its version, exactly as
    github-actions-pins.json has it."""
    uses = USES.findall(text)
    assert uses
    for reference in uses:
        if reference.startswith("$/"):
            continue  # this repository's own workflow, at the commit that runs
        match = PINNED.fullmatch(reference.strip())
        assert match, f"not pinned as owner/repo@<sha> # vX.Y.Z: {reference}"
        pin = pins.PINS["/".join(match["action"].split("/")[:2])]
        assert (match["sha"], match["version"]) == (pin["sha"], pin["version"]), reference
