"""What the template's tests share within a session: one bake per set of answers (`baked`) and
one run of each validator per distinct content."""

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
    monkeypatch.setattr(validators, "capture", lambda command, cwd=None: runs.append(command[0]) or original(command, cwd))
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
