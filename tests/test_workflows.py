"""The generated GitHub workflows, Dependabot and actionlint configs: shaped by the answers, hardened,
pinned, drawn in the README as generated, and accepted by actionlint, zizmor and GitHub's schemas,
for the defaults, every value of every pipeline answer, and pairwise across them."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest
import validators
from helpers import CHOICES, DEFAULTS, answers, bake, combination_id, find_python, pairwise, run
from test_bake import assert_well_formed

# Free-text answers the pipeline depends on: the default first, then other valid shapes.
SAMPLES = {
    "python_versions": [DEFAULTS["python_versions"], "3.13", "3.10, 3.11, 3.12, 3.13, 3.14, 3.15"],
    "os_matrix": [
        DEFAULTS["os_matrix"],
        "ubuntu-latest",
        "macos-latest",
        "ubuntu-latest, windows-latest, macos-latest",
    ],
    "runner": [DEFAULTS["runner"], "self-hosted, linux, x64, gpu", "ubuntu-24.04-arm"],
    "environments": [
        DEFAULTS["environments"],
        "production:main",
        "dev:main -> qa -> production",
        "staging:release/next, production:main",
    ],
}
PIPELINE_CHOICES = ["code_style", "package_manager", "dependency_audit", "codecov", "container_registry"]
PARAMETERS = {**{name: CHOICES[name] for name in PIPELINE_CHOICES}, **SAMPLES}
EACH_VALUE = [
    {name: value} for name, values in PARAMETERS.items() for value in values if value != DEFAULTS[name]
]
PAIRWISE = pairwise(PARAMETERS)
ROWS = [{}, *EACH_VALUE, *PAIRWISE]
IDS = ["defaults"] + [f"{next(iter(row))}={combination_id(row)}" for row in EACH_VALUE]
IDS += [f"pairwise-{combination_id(row)}" for row in PAIRWISE]

USES = re.compile(r"^\s*(?:- )?uses: (.*)$", re.MULTILINE)
PINNED = re.compile(r"(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40}) # (?P<version>v\d+\.\d+\.\d+)")
WRITE_GRANT = re.compile(r"^\s+[\w-]+: write\b.*$", re.MULTILINE)
# Registry -> the actions its login takes, and the permission the push needs beyond contents: read.
LOGIN = {
    "ghcr.io": ({"docker/login-action"}, {"packages": "write"}),
    "docker.io": ({"docker/login-action"}, {}),
    "ecr": ({"aws-actions/configure-aws-credentials", "aws-actions/amazon-ecr-login"}, {"id-token": "write"}),
    "gar": ({"google-github-actions/auth", "docker/login-action"}, {"id-token": "write"}),
    "acr": ({"Azure/login"}, {"id-token": "write"}),
}


def bake_row(cookies, row):
    # A deploy needs a registry: without one, there is nothing to deploy.
    extra = {"deploy_target": "none"} if row.get("container_registry") == "none" else {}
    return bake(cookies, **row, **extra)


def workflow(project, name):
    data = project.yaml(f".github/workflows/{name}")
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def needs(job) -> set[str]:
    value = job.get("needs", [])
    return {value} if isinstance(value, str) else set(value)


def steps_using(job, action):
    return [step for step in job["steps"] if step.get("uses", "").split("@")[0] == action]


def branches(context) -> list[str]:
    return list(dict.fromkeys(env.branch for env in answers.check_environments(context["environments"]) if env.branch))


def tasks_of(project) -> dict:
    spec = importlib.util.spec_from_file_location("baked_tasks", project["tasks.py"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TASKS


def expected_ci_jobs(context) -> dict[str, set[str]]:
    """The jobs the answers call for, and what each waits for: checks, tests and the image start at
    once; the push waits for all of them; ci-ok for everything."""
    jobs = {"lint", "bandit", "dependency-review", "test"}
    if context["dependency_audit"] != "none":
        jobs.add("audit")
    graph = {job: set() for job in jobs}
    if context["container_registry"] != "none":
        graph["image"] = set()
        graph["build"] = jobs - {"dependency-review"} | {"image"}
    graph["ci-ok"] = set(graph)
    return graph


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_generated_pipeline_follows_the_answers(cookies, row):
    project = bake_row(cookies, row)
    context = project.context
    assert_well_formed(project)
    ci = workflow(project, "ci.yml")
    security = workflow(project, "security.yml")

    assert_ci_triggers(ci, context)
    assert_ci_jobs(ci, context)
    assert_test_matrix(ci, context)
    assert_image_jobs(ci, context)
    assert_security_workflow(security, context)
    for name, data in [("ci.yml", ci), ("security.yml", security)]:
        assert_hardened(project, name, data, context)
        assert_pinned(project.text(f".github/workflows/{name}"))
        assert_runs_tasks(project, data)
    assert_dependabot(project.yaml(".github/dependabot.yml"), context)
    assert_actionlint_config(project, context)
    assert_readme_draws_the_pipeline(project, ci)
    assert_readme_lists_the_settings(project)


def assert_ci_triggers(ci, context):
    on = ci["on"]
    assert on["push"]["branches"] == branches(context)
    assert on["push"]["tags"] == ["v*"]
    assert "**.md" in on["push"]["paths-ignore"]
    # Pull requests always run, so the required ci-ok check always reports.
    assert on["pull_request"] == {"branches": branches(context)}
    assert "workflow_dispatch" in on
    assert ci["concurrency"]["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"
    assert "github.event.pull_request.number || github.ref" in ci["concurrency"]["group"]


def assert_ci_jobs(ci, context):
    # Deploy jobs (deploy-<environment>) belong to the deploy stage and its own tests.
    jobs = {name: job for name, job in ci["jobs"].items() if not name.startswith("deploy-")}
    assert {name: needs(job) for name, job in jobs.items()} == expected_ci_jobs(context)
    assert ci["jobs"]["dependency-review"]["if"] == "github.event_name == 'pull_request'"
    gate = ci["jobs"]["ci-ok"]
    assert gate["if"] == "always()"
    skippable = {"dependency-review"} | ({"build"} if "build" in jobs else set())
    assert set(answers.split_list(gate["steps"][0]["with"]["allowed-skips"])) == skippable
    audit = jobs.get("audit")
    if context["dependency_audit"] == "safety":
        assert audit["env"] == {"SAFETY_API_KEY": "${{ secrets.SAFETY_API_KEY }}"}
    elif audit:
        assert "env" not in audit
    bandit = {step.get("uses", "").split("@")[0]: step for step in jobs["bandit"]["steps"]}
    assert bandit["actions/upload-artifact"]["with"]["path"] == "bandit-report.json"
    assert bandit["github/codeql-action/upload-sarif"]["with"]["sarif_file"] == "bandit.sarif"


def assert_test_matrix(ci, context):
    test = ci["jobs"]["test"]
    assert test["strategy"]["fail-fast"] is False
    assert test["strategy"]["matrix"] == {
        "os": answers.split_list(context["os_matrix"]),
        "python-version": answers.python_versions(context["python_versions"]),
    }
    assert test["runs-on"] == "${{ matrix.os }}"
    codecov = steps_using(test, "codecov/codecov-action")
    if context["codecov"] == "yes":
        assert codecov[0]["with"]["use_oidc"] is True and codecov[0]["with"]["files"] == "coverage.xml"
        assert test["permissions"] == {"contents": "read", "id-token": "write"}
    else:
        assert not codecov and test["permissions"] == {"contents": "read"}


def assert_image_jobs(ci, context):
    registry = context["container_registry"]
    if registry == "none":
        assert "image" not in ci["jobs"] and "build" not in ci["jobs"] and "env" not in ci
        return
    image, build = ci["jobs"]["image"], ci["jobs"]["build"]
    for job in (image, build):
        built = steps_using(job, "docker/build-push-action")[0]["with"]
        assert built["build-args"].splitlines() == [
            "GIT_COMMIT=${{ github.sha }}",
            "VERSION=${{ steps.meta.outputs.version }}",
        ]
        assert "type=gha" in built["cache-from"]
    scanned = steps_using(image, "aquasecurity/trivy-action")
    assert {step["with"]["version"] for step in scanned} == {answers.PINS["aquasecurity/trivy-action"]["trivy"]}
    assert steps_using(image, "docker/build-push-action")[0]["with"]["load"] is True
    assert image["permissions"] == {"contents": "read", "security-events": "write"}

    assert build["if"] == "github.event_name != 'pull_request'"
    assert build["outputs"] == {"image": "${{ env.IMAGE }}", "digest": "${{ steps.build.outputs.digest }}"}
    pushed = steps_using(build, "docker/build-push-action")[0]
    assert pushed["id"] == "build"
    assert pushed["with"]["push"] is True and pushed["with"]["sbom"] is True
    assert pushed["with"]["provenance"] == "mode=max"
    assert context["project_slug"] in ci["env"]["IMAGE"]
    logins, permissions = LOGIN[registry]
    used = {step.get("uses", "").split("@")[0] for step in build["steps"]}
    assert logins <= used
    assert not (set().union(*(logins for logins, _ in LOGIN.values())) - logins) & used
    assert build["permissions"] == {"contents": "read", **permissions}


def assert_security_workflow(security, context):
    assert set(security["on"]) == {"schedule", "workflow_dispatch"}
    jobs = {"bandit", "trivy-fs", "codeql"}
    if context["dependency_audit"] != "none":
        jobs.add("audit")
    if context["container_registry"] != "none":
        jobs.add("trivy-image")
        tags = security["jobs"]["trivy-image"]["strategy"]["matrix"]["tag"]
        assert tags == [branch.replace("/", "-") for branch in branches(context)]
    assert set(security["jobs"]) == jobs
    init = steps_using(security["jobs"]["codeql"], "github/codeql-action/init")[0]
    assert init["with"]["languages"] == "python"


def assert_hardened(project, name, data, context):
    text = project.text(f".github/workflows/{name}")
    assert data["permissions"] == {}, f"{name}: grant nothing at the top, per job instead"
    for line in WRITE_GRANT.findall(text):
        assert " # " in line, f"{name}: a write grant without a comment saying why: {line.strip()}"
    labels = answers.split_list(context["runner"])
    for job_name, job in data["jobs"].items():
        where = f"{name}: job {job_name}"
        if "uses" in job:
            # A call of a reusable workflow takes no runs-on or timeout: its own jobs have them.
            assert "permissions" in job and "write-all" not in str(job["permissions"]), where
            continue
        assert "permissions" in job and job["timeout-minutes"] > 0, where
        assert "write-all" not in str(job["permissions"]), where
        if "matrix" not in str(job["runs-on"]):
            assert job["runs-on"] == (labels[0] if len(labels) == 1 else labels), where
        for step in job.get("steps", []):
            assert "${{" not in step.get("run", ""), f"{where}: an expression inside run: pass it in env:"
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, where
            if step.get("uses", "").startswith("actions/setup-python@"):
                assert context["package_manager"] == "pip", where
                assert "pip" in step["with"]["cache"] and step["with"]["cache-dependency-path"] == "requirements*.txt"
            if step.get("uses", "").startswith("astral-sh/setup-uv@"):
                assert context["package_manager"] == "uv", where
                assert step["with"]["activate-environment"] is True and step["with"]["enable-cache"]


def assert_pinned(text):
    """Every action pinned by full commit SHA with its version, exactly as github-actions-pins.json has it."""
    uses = USES.findall(text)
    assert uses
    for reference in uses:
        if reference.startswith("$/"):
            continue  # this repository's own workflow, at the commit that runs
        match = PINNED.fullmatch(reference.strip())
        assert match, f"not pinned as owner/repo@<sha> # vX.Y.Z: {reference}"
        pin = answers.PINS["/".join(match["action"].split("/")[:2])]
        assert (match["sha"], match["version"]) == (pin["sha"], pin["version"]), reference


def assert_runs_tasks(project, data):
    """The workflows run the project's tasks (one place for commands), and only tasks that exist."""
    tasks = tasks_of(project)
    for job in data["jobs"].values():
        for step in job.get("steps", []):
            if command := step.get("run"):
                if command.startswith("python "):
                    program, task = command.split()[1:]
                    assert program == "tasks.py" and task in tasks, command
    if project.context["dependency_audit"] == "pip-audit":
        assert "--strict" in tasks["audit"][0]
    assert ("audit" in tasks) == (project.context["dependency_audit"] != "none")


def assert_dependabot(config, context):
    updates = config["updates"]
    assert [update["package-ecosystem"] for update in updates] == [context["package_manager"], "github-actions", "docker"]
    for update in updates:
        assert update["cooldown"]["default-days"] >= 3 and update["groups"]


def assert_actionlint_config(project, context):
    labels = answers.self_hosted_labels(context)
    assert project.exists(".github/actionlint.yaml") == bool(labels)
    if labels:
        assert project.yaml(".github/actionlint.yaml") == {"self-hosted-runner": {"labels": labels}}


def assert_readme_draws_the_pipeline(project, ci):
    """The README's Mermaid diagram has exactly the jobs and `needs` of the generated ci.yml."""
    diagram = re.search(r"```mermaid\n(.*?)```", project.text("README.md"), re.DOTALL)[1]
    nodes = {node.replace("_", "-") for node in re.findall(r"^\s+([\w]+)\[", diagram, re.MULTILINE)}
    edges = {(a.replace("_", "-"), b.replace("_", "-")) for a, b in re.findall(r"^\s+(\w+) --> (\w+)$", diagram, re.MULTILINE)}
    assert nodes == set(ci["jobs"])
    assert edges == {(need, name) for name, job in ci["jobs"].items() for need in needs(job)}


def assert_readme_lists_the_settings(project):
    """The README's table names exactly the secrets and variables the workflows read."""
    readme = project.text("README.md")
    listed = set(re.findall(r"^\| (secret|variable) \| `(\w+)` \|", readme, re.MULTILINE))
    texts = [path.read_text("utf-8") for path in sorted(project["."].joinpath(".github/workflows").glob("*.yml"))]
    read = {("secret", name) for text in texts for name in re.findall(r"\bsecrets\.(\w+)", text)}
    read |= {("variable", name) for text in texts for name in re.findall(r"\bvars\.(\w+)", text)}
    assert listed == read - {("secret", "GITHUB_TOKEN")}
    if not listed:
        assert "No secrets or variables" in readme


# The validators, over many projects per call: actionlint per project, zizmor and check-jsonschema once.
VALIDATED = {
    "defaults-and-each-value": ROWS[: 1 + len(EACH_VALUE)],
    "pairwise-first-half": PAIRWISE[: len(PAIRWISE) // 2],
    "pairwise-second-half": PAIRWISE[len(PAIRWISE) // 2 :],
}


@pytest.mark.parametrize("group", VALIDATED)
def test_validators_accept_the_generated_files(cookies, group):
    projects = [bake_row(cookies, row) for row in VALIDATED[group]]
    assert validators.actionlint(*projects) >= 2 * len(projects)
    validators.zizmor(*projects)
    assert validators.check_schemas(*projects) >= 3 * len(projects)


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
    """answers.GITHUB_HOSTED must match what actionlint accepts without a config, and no more."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "probe.yml").write_text(
        "on: push\njobs:\n  probe:\n    runs-on: unknown-label\n    steps:\n      - run: 'true'\n"
    )
    result = subprocess.run([validators.tool("actionlint"), "-no-color", ".github/workflows/probe.yml"],
                            cwd=tmp_path, capture_output=True, text=True)
    known = re.findall(r'"([\w.-]+)"', re.search(r"available labels are (.*?)\. if it is", result.stdout)[1])
    builtin_self_hosted = {"self-hosted", "x64", "arm", "arm64", "linux", "macos", "windows"}
    assert len(known) > 20
    for label in known:
        assert bool(answers.GITHUB_HOSTED.fullmatch(label)) == (label not in builtin_self_hosted), label
    for custom in ["gpu", "ubuntu-gpu", "my-runner", "windows-latest-gpu"]:
        assert not answers.GITHUB_HOSTED.fullmatch(custom), custom


def test_pins_file_is_well_formed():
    for repo, pin in answers.PINS.items():
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", repo), repo
        assert re.fullmatch(r"[0-9a-f]{40}", pin["sha"]) and re.fullmatch(r"v\d+\.\d+\.\d+", pin["version"]), repo
    assert re.fullmatch(r"v\d+\.\d+\.\d+", answers.PINS["aquasecurity/trivy-action"]["trivy"])


def test_github_expressions_are_left_to_github():
    """In the project's files `${{ ... }}` is GitHub's, even beside Jinja and raw blocks; answers
    rendered from the command line (templates without a name) are left alone."""
    from jinja2 import DictLoader, Environment
    from jinja_extension import AnswersExtension

    source = 'a: ${{ x }} {% raw %}${{ y }}{% endraw %}\nb: {{ "c" }} ${{ z }}'
    env = Environment(loader=DictLoader({"ci.yml": source}), extensions=[AnswersExtension])
    assert env.get_template("ci.yml").render() == "a: ${{ x }} ${{ y }}\nb: c ${{ z }}"
    assert env.from_string("{{ 'v' }}{% raw %}${{ w }}{% endraw %}").render() == "v${{ w }}"


# The workflow's own commands, read from the generated ci.yml and run in order on the baked project,
# so the workflow and what the tests prove cannot drift apart.
COMMAND_JOBS = ["lint", "bandit", "test", "audit"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "row",
    [
        pytest.param({"package_manager": "pip", "code_style": "black+flake8"}, id="pip-black_flake8"),
        pytest.param({"package_manager": "uv", "code_style": "ruff"}, id="uv-ruff"),
    ],
)
def test_the_workflow_commands_run_on_the_baked_project(cookies, row):
    project = bake(cookies, **row)
    ci = workflow(project, "ci.yml")
    # What setup-python (or setup-uv with activate-environment) leaves: a matrix Python first on PATH.
    python = find_python(ci["jobs"]["test"]["strategy"]["matrix"]["python-version"])
    venv = project.path / ".venv"
    run([python, "-m", "venv", str(venv)], cwd=project.path)
    scripts = "Scripts" if os.name == "nt" else "bin"
    path = os.pathsep.join([str(venv / scripts), str(validators.BIN), os.environ["PATH"]])  # uv from the dev venv
    env = {**os.environ, "PATH": path, "VIRTUAL_ENV": str(venv)}

    done = set()  # the jobs share one environment here: an install that passed need not rerun
    for name in COMMAND_JOBS:
        job = ci["jobs"][name]
        for step in job["steps"]:
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
                assert re.search(r"could not be audited|ConnectionError|Failed to establish", result.stdout + result.stderr), log
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
        for step in job["steps"]:
            with_ = step.get("with", {})
            for key in ("path", "sarif_file", "files"):
                if key in with_ and "${{" not in with_[key]:
                    assert (project.path / with_[key]).is_file(), f"{name} uploads {with_[key]}, which no step wrote"
