"""What the template's tests share within a session: one bake per set of answers (`baked`) and
one run of each validator per distinct content; and where what they share lives."""

import ast
import json
import shutil
from pathlib import Path

import pytest
import validators

WORKFLOW = """\
name: ok
on: push
permissions: {}
jobs:
  job:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: echo ok
"""
DEPENDABOT = """\
version: 2
updates:
  - package-ecosystem: pip
    directory: /
    schedule:
      interval: weekly
"""


def project(path, workflow=WORKFLOW):
    (path / ".github" / "workflows").mkdir(parents=True)
    (path / ".github" / "workflows" / "ci.yml").write_text(workflow, "utf-8")
    (path / ".github" / "dependabot.yml").write_text(DEPENDABOT, "utf-8")
    return path


@pytest.fixture
def tool_runs(monkeypatch):
    """The validators' tool runs, counted; and a session memory of its own."""
    runs = []
    original = validators.capture
    monkeypatch.setattr(
        validators, "capture", lambda command, cwd=None: runs.append(command[0]) or original(command, cwd)
    )
    monkeypatch.setattr(validators, "PASSED", {})
    return runs


@pytest.mark.parametrize(
    ("validator", "tool", "checked"),
    [("actionlint", "actionlint", 1), ("check_schemas", "check-jsonschema", 2)],
)
def test_a_validator_runs_once_per_distinct_content(tmp_path, tool_runs, validator, tool, checked):
    def runs():
        return tool_runs.count(validators.tool(tool))

    validate = getattr(validators, validator)
    first, same = project(tmp_path / "first"), project(tmp_path / "same")
    assert validate(first) == checked and runs() >= 1
    before = runs()
    assert validate(first, same) == 2 * checked  # the files count as checked: they were
    assert runs() == before, "the same content was checked again"
    other = project(tmp_path / "other", WORKFLOW.replace("echo ok", "echo other"))
    assert validate(other) == checked
    assert runs() > before, "new content was not checked"


def test_a_failure_is_never_remembered(tmp_path, tool_runs):
    bad = project(tmp_path / "bad", WORKFLOW.replace("    runs-on: ubuntu-latest\n", ""))
    for _ in range(2):
        with pytest.raises(AssertionError, match="runs-on"):
            validators.actionlint(bad)
    good = project(tmp_path / "good")
    validators.actionlint(good)
    (good / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW.replace("    runs-on: ubuntu-latest\n", ""))
    with pytest.raises(AssertionError, match="runs-on"):
        validators.actionlint(good)


def test_baked_bakes_each_set_of_answers_once(baked):
    defaults = baked()
    assert baked() is defaults
    assert baked(metrics="none", notify="slack") is baked(notify="slack", metrics="none")
    assert baked(metrics="none").path != defaults.path
    assert not baked(metrics="none").exists("src/flask_service/metrics.py")


def test_a_shared_bake_a_test_changed_is_named(baked):
    answers = {"description": "Changed by a test, then put back"}
    key = json.dumps(answers)
    project = baked(**answers)
    assert key not in baked.changed()
    original = project.text("Dockerfile")
    project["Dockerfile"].write_text(original + "# changed\n", "utf-8")
    (project.path / "__pycache__").mkdir()
    (project.path / "__pycache__" / "tasks.cpython-311.pyc").write_bytes(b"")
    try:
        assert baked.changed()[key] == ["Dockerfile", "__pycache__/tasks.cpython-311.pyc"]
    finally:
        project["Dockerfile"].write_text(original, "utf-8")
        shutil.rmtree(project.path / "__pycache__")
    assert key not in baked.changed()


def test_no_test_module_imports_another():
    """What tests share lives in the toolkit (helpers.py) and small modules named for what they
    hold, never in a test module: importing one runs its collection-time code and hides the helper."""
    tests = Path(__file__).parent
    modules = {path.stem for path in tests.glob("test_*.py")}
    imports = []
    for path in sorted(tests.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imports.append((path.name, node.module))
            elif isinstance(node, ast.Import):
                imports += [(path.name, alias.name) for alias in node.names]
    assert {"helpers", "validators"} <= {module for _, module in imports}, "the walk finds no import"
    assert [(name, module) for name, module in imports if module in modules] == []
