"""The template's own GitHub workflow meets the bar it sets for the projects it generates."""

import validators
from helpers import ROOT


def test_template_workflow_passes_the_validators():
    assert validators.actionlint(ROOT) == 1
    assert validators.zizmor(ROOT) == 0  # nothing suppressed either
    assert validators.check_schemas(ROOT) == 2  # the workflow and dependabot.yml


def test_template_workflow_uses_the_pinned_actions():
    validators.assert_pinned((ROOT / ".github/workflows/template.yml").read_text("utf-8"))


def test_template_workflow_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text("utf-8")
    workflow = (ROOT / ".github/workflows/template.yml").read_text("utf-8")
    ci_run = (ROOT / ".ci/run").read_text("utf-8")
    assert "bash dev.sh test" in readme.split("\n## ")[0]
    assert "run: bash dev.sh test" in workflow
    assert "exec bash dev.sh test" in ci_run
