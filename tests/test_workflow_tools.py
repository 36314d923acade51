"""The validators (each can fail), the runner labels actionlint knows, the pins file, GitHub's own
expressions left alone by Jinja, and the generated ci.yml's commands run on the baked project."""

from __future__ import annotations

import os
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest
import validators
from helpers import ROOT, bake, find_python, run

from flask_cicd import pins, pipeline

# Each validator must be able to fail, or its silence proves nothing.
BAD_WORKFLOW = """\
name: bad
on: push
permissions: write-all
jobs:
  job:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo ${{ github.event.head_commit.message }} && cd $HOME/some dir
"""


@pytest.fixture
def bad_project(tmp_path):
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "bad.yml").write_text(BAD_WORKFLOW)
    (tmp_path / ".github" / "dependabot.yml").write_text("version: 2\nupdates:\n  - package-ecosystem: pip\n")
    return tmp_path


def test_actionlint_reports_shellcheck_findings(bad_project):
    with pytest.raises(AssertionError, match=r"SC\d+"):
        validators.actionlint(bad_project)


def test_zizmor_reports_findings(bad_project):
    with pytest.raises(AssertionError, match="template-injection"):
        validators.zizmor(bad_project)


def test_schemas_reject_bad_files(bad_project):
    with pytest.raises(AssertionError, match="vendor.dependabot"):
        validators.check_schemas(bad_project)


def test_github_hosted_labels_are_the_ones_actionlint_knows(tmp_path):
    """pipeline.GITHUB_HOSTED must match what actionlint accepts without a config, and no more."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "probe.yml").write_text(
        "on: push\njobs:\n  probe:\n    runs-on: unknown-label\n    steps:\n      - run: 'true'\n"
    )
    result = subprocess.run(
        [validators.tool("actionlint"), "-no-color", ".github/workflows/probe.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    known = re.findall(r'"([\w.-]+)"', re.search(r"available labels are (.*?)\. if it is", result.stdout)[1])
    builtin_self_hosted = {"self-hosted", "x64", "arm", "arm64", "linux", "macos", "windows"}
    assert len(known) > 20
    for label in known:
        assert bool(pipeline.GITHUB_HOSTED.fullmatch(label)) == (label not in builtin_self_hosted), label
    for custom in ["gpu", "ubuntu-gpu", "my-runner", "windows-latest-gpu"]:
        assert not pipeline.GITHUB_HOSTED.fullmatch(custom), custom


def test_pins_file_is_well_formed():
    for repo, pin in pins.PINS.items():
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", repo), repo
        assert re.fullmatch(r"[0-9a-f]{40}", pin["sha"]) and re.fullmatch(r"v\d+\.\d+\.\d+", pin["version"]), repo
    assert re.fullmatch(r"v\d+\.\d+\.\d+", pins.PINS["aquasecurity/trivy-action"]["trivy"])


def test_github_expressions_are_left_to_github():
    """In the project's files `${{ ... }}` is GitHub's, even beside Jinja and raw blocks; answers
    rendered from the command line (templates without a name) are left alone."""
    from jinja2 import DictLoader, Environment

    from flask_cicd.extension import AnswersExtension

    source = 'a: ${{ x }} {% raw %}${{ y }}{% endraw %}\nb: {{ "c" }} ${{ z }}'
    env = Environment(loader=DictLoader({"ci.yml": source}), extensions=[AnswersExtension])
    assert env.get_template("ci.yml").render() == "a: ${{ x }} ${{ y }}\nb: c ${{ z }}"
    assert env.from_string("{{ 'v' }}{% raw %}${{ w }}{% endraw %}").render() == "v${{ w }}"


# The workflow's own commands, read from the generated ci.yml and run in order on the baked project,
# so the workflow and what the tests prove cannot drift apart.
COMMAND_JOBS = ["lint", "bandit", "test", "audit"]


def runner_steps(project, job: dict) -> tuple[dict, list[dict]]:
    """A ci.yml job and its steps as the runner takes them: a reusable workflow's job in place of
    its call, the project's own action's steps (those its inputs switch on) in place of its use."""
    if "uses" in job:
        (job,) = project.workflow(job["uses"].removeprefix("$/").rpartition("/")[2])["jobs"].values()
    steps = []
    for step in job["steps"]:
        if not step.get("uses", "").startswith("$/.github/actions/"):
            steps.append(step)
            continue
        action = project.yaml(step["uses"].removeprefix("$/") + "/action.yml")
        given = {key: str(value).lower() for key, value in step.get("with", {}).items()}
        inputs = {key: spec.get("default", "") for key, spec in action["inputs"].items()} | given
        for inner in action["runs"]["steps"]:
            if "if" in inner:  # the one form the action uses: inputs.<name> == '<value>'
                name, value = re.fullmatch(r"inputs\.([\w-]+) == '(\w+)'", inner["if"]).groups()
                if inputs[name] != value:
                    continue
            steps.append(inner)
    return job, steps


@pytest.mark.slow
@pytest.mark.sample(1)
@pytest.mark.parametrize(
    "row",
    [
        pytest.param({"package_manager": "pip", "code_style": "black+flake8"}, id="pip-black_flake8"),
        pytest.param({"package_manager": "uv", "code_style": "ruff"}, id="uv-ruff"),
    ],
)
def test_the_workflow_commands_run_on_the_baked_project(cookies, row):
    project = bake(cookies, **row)
    ci = project.workflow("ci.yml")
    # What setup-python (or setup-uv with activate-environment) leaves: a matrix Python first on PATH.
    python = find_python(ci["jobs"]["test"]["strategy"]["matrix"]["python-version"])
    venv = project.path / ".venv"
    run([python, "-m", "venv", str(venv)], cwd=project.path)
    scripts = "Scripts" if os.name == "nt" else "bin"
    path = os.pathsep.join([str(venv / scripts), str(validators.BIN), os.environ["PATH"]])  # uv from the dev venv
    env = {**os.environ, "PATH": path, "VIRTUAL_ENV": str(venv), "CI": "true"}  # as GitHub sets it
    if row["package_manager"] == "uv":  # setup-uv's python-version: UV_PYTHON, over .python-version
        env["UV_PYTHON"] = python

    done = set()  # the jobs share one environment here: an install that passed need not rerun
    ran = set()
    for name in COMMAND_JOBS:
        job, steps = runner_steps(project, ci["jobs"][name])
        for step in steps:
            if "run" in step:
                ran.add(step["run"])
            if "run" not in step or step["run"] in done:
                continue
            step_env = {**job.get("env", {}), **step.get("env", {})}
            result = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                cwd=project.path,
                env={**env, **{key: "" if "${{" in value else value for key, value in step_env.items()}},
                capture_output=True,
                text=True,
                timeout=900,
            )
            log = f"{name}: {step['run']} exited {result.returncode}\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
            if step["run"] == "python tasks.py audit" and result.returncode != 0:
                # Where no vulnerability database is reachable (this sandbox), --strict must turn
                # that into a failure rather than a false "no known vulnerabilities"; any other
                # failure is a real one. Where it is reachable (GitHub), the audit must pass.
                assert re.search(
                    r"could not be audited|ConnectionError|Failed to establish", result.stdout + result.stderr
                ), log
            else:
                assert result.returncode == 0, log
                done.add(step["run"])
            if step["run"] == "python tasks.py test-unit":  # the gate is pyproject.toml's
                gate = project.toml("pyproject.toml")["tool"]["coverage"]["report"]["fail_under"]
                assert re.search(rf"Required test coverage of {gate}(\.0)?% reached", result.stdout), log
                # The generated project itself sits well above its gate.
                coverage = float(ET.parse(project.path / "coverage.xml").getroot().get("line-rate"))
                assert coverage > 0.95, f"the generated project's own coverage is {coverage:.1%}"
        # The files the job's later steps upload are the ones its commands wrote.
        for step in steps:
            with_ = step.get("with", {})
            for key in ("path", "sarif_file", "files"):
                if key in with_ and "${{" not in with_[key]:
                    assert (project.path / with_[key]).is_file(), f"{name} uploads {with_[key]}, which no step wrote"
    assert "python tasks.py install" in ran and "python tasks.py audit" in ran


@pytest.mark.parametrize(
    ("event", "key", "present", "message"),
    [
        pytest.param(
            "pull_request", "", "false", "::notice title=audit skipped::SAFETY_API_KEY is not available", id="fork-pr"
        ),
        pytest.param("push", "", None, "::error::set the SAFETY_API_KEY secret", id="push-fails-closed"),
        pytest.param("schedule", "", None, "::error::set the SAFETY_API_KEY secret", id="nightly-fails-closed"),
        pytest.param("pull_request", "k", "true", "", id="pr-with-key"),
    ],
)
def test_safety_skips_visibly_without_its_key_on_pull_requests_only(baked, tmp_path, event, key, present, message):
    from workflow_steps import run_step, step

    project = baked(dependency_audit="safety")
    # ci.yml (push, pull_request) and security.yml (schedule) both call audit.yml.
    script = step(project, "audit.yml", "audit", id="key")["run"]
    result, outputs = run_step(project, script, {"SAFETY_API_KEY": key, "EVENT": event}, tmp_path, check=False)
    assert (result.returncode == 0) == (present is not None), result.stdout
    assert outputs == ({"present": present} if present else {}) and message in result.stdout


def test_a_fork_s_pull_request_never_runs_on_your_own_runners(cookies):
    """Its jobs go to GitHub's runners (the runs-on of every job outside the matrix says so), and
    the README warns what a public repository must also set."""
    project = bake(cookies, runner="self-hosted, linux")
    for name in ("ci.yml", "security.yml", "release.yml", "deploy.yml", "audit.yml"):
        for job in project.yaml(f".github/workflows/{name}")["jobs"].values():
            if "runs-on" in job and "matrix" not in str(job["runs-on"]):
                assert job["runs-on"].startswith(
                    "${{ github.event.pull_request.head.repo.fork && 'ubuntu-latest' || "
                ), name
    readme = " ".join(project.text("README.md").split())
    assert "except for pull requests from forks: those run on GitHub's `ubuntu-latest`" in readme
    assert (
        "In a public repository, also set **Settings → Actions → Fork pull request workflows** to require approval"
        in readme
    )
    hosted = bake(cookies)
    assert "Fork pull request workflows" not in hosted.text("README.md")


def test_no_github_expression_inside_jinja():
    """The rule in the README: `${{` is written in template text, where flask_cicd/extension.py keeps
    it from Jinja, never inside a Jinja expression or statement, where Jinja would read it."""
    tag = re.compile(r"(?<!\$)\{\{(.*?)\}\}|\{%(.*?)%\}", re.DOTALL)
    sources = [*(ROOT / "macros").glob("*.j2"), *(ROOT / "targets").rglob("*.j2"), *(ROOT / "registries").rglob("*.j2")]
    sources += (ROOT / "{{cookiecutter.project_slug}}").rglob("*")
    checked = 0
    for path in sources:
        if not path.is_file() or path.suffix in (".json", ".lock", ".txt") and "{%" not in path.read_text("utf-8"):
            continue
        text = path.read_text("utf-8")
        for match in tag.finditer(text):
            checked += 1
            assert "${{" not in (match[1] or match[2]), f"{path.relative_to(ROOT)}: {match[0][:80]}"
    assert checked > 100, "the pattern finds no Jinja: it is out of date"
