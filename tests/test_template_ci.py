"""The template's own GitHub workflows meet the bar it sets for the projects it generates."""

import pytest
import validators
import yaml
from helpers import ROOT

# template.yml tests every change; refresh.yml refreshes the locks and pins every week.
WORKFLOWS = ["refresh.yml", "template.yml"]


def test_template_workflows_pass_the_validators():
    assert sorted(path.name for path in validators.workflows(ROOT)) == WORKFLOWS
    assert validators.actionlint(ROOT) == len(WORKFLOWS)
    assert validators.zizmor(ROOT) == 0  # nothing suppressed either
    assert validators.check_schemas(ROOT) == len(WORKFLOWS) + 1  # and dependabot.yml


@pytest.mark.parametrize("name", WORKFLOWS)
def test_template_workflows_use_the_pinned_actions(name):
    validators.assert_pinned((ROOT / ".github/workflows" / name).read_text("utf-8"))


def test_only_the_refresh_job_that_runs_nothing_downloaded_may_write():
    workflow = yaml.safe_load((ROOT / ".github/workflows/refresh.yml").read_text("utf-8"))
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert jobs["refresh"]["permissions"] == {"contents": "read"}
    assert jobs["pull-request"]["permissions"] == {"contents": "write", "pull-requests": "write"}
    steps = [step.get("run", "") for step in jobs["pull-request"]["steps"]]
    commands = [line.strip() for run in steps for line in run.splitlines()]
    assert not [line for line in commands if line.startswith(("bash ", "python", ".venv", "./", "make"))]
    assert "bash dev.sh refresh" in jobs["refresh"]["steps"][2]["run"]
    assert "bash dev.sh test" in [step.get("run") for step in jobs["refresh"]["steps"]]
    assert any("gh pr create" in run for run in steps)


def test_template_workflow_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text("utf-8")
    workflow = (ROOT / ".github/workflows/template.yml").read_text("utf-8")
    ci_run = (ROOT / ".ci/run").read_text("utf-8")
    assert "bash dev.sh test" in readme.split("\n## ")[0]
    assert "run: bash dev.sh test" in workflow
    assert "exec bash dev.sh test" in ci_run


def test_the_nightly_run_and_the_refresh_take_every_case_of_the_sampled_tests():
    template = yaml.safe_load((ROOT / ".github/workflows/template.yml").read_text("utf-8"))
    assert template[True]["schedule"]  # PyYAML reads the key `on` as True
    (step,) = [s for s in template["jobs"]["test"]["steps"] if s.get("run") == "bash dev.sh test"]
    assert step["env"]["FLASK_CICD_FULL"] == "${{ github.event_name == 'schedule' && '1' || '' }}"
    refresh = yaml.safe_load((ROOT / ".github/workflows/refresh.yml").read_text("utf-8"))
    (step,) = [s for s in refresh["jobs"]["refresh"]["steps"] if s.get("run") == "bash dev.sh test"]
    assert step["env"]["FLASK_CICD_FULL"] == "1"
