"""The generated GitHub workflows, Dependabot and actionlint configs: shaped by the answers, hardened,
pinned, drawn in the README as generated, and accepted by actionlint, zizmor and GitHub's schemas,
for the defaults, every value of every pipeline answer, and pairwise across them."""

from __future__ import annotations

import json
import re

import pytest
import validators
import yaml
from baked_checks import assert_well_formed
from helpers import CHOICES, DEFAULTS, answers, combination_id, pairwise
from validators import assert_pinned
from workflow_steps import steps_using

from flask_cicd import pins, pipeline, platforms

# Free-text answers the pipeline depends on: the default first, then other valid shapes.
SAMPLES = {
    "python_versions": [DEFAULTS["python_versions"], "3.13", "3.10, 3.11, 3.12, 3.13, 3.14, 3.15"],
    "os_matrix": [
        DEFAULTS["os_matrix"],
        "ubuntu-latest",
        "macos-latest",
        "ubuntu-latest, windows-latest, macos-latest",
    ],
    "runner": [DEFAULTS["runner"], "self-hosted, linux, x64, gpu", "ubuntu-24.04-arm", "gpu"],
    "environments": [
        DEFAULTS["environments"],
        "production:main",
        "dev:main -> qa -> production",
        "staging:release/next, production:main",
    ],
}
PIPELINE_CHOICES = ["code_style", "package_manager", "dependency_audit", "codecov", "container_registry"]
PARAMETERS = {**{name: CHOICES[name] for name in PIPELINE_CHOICES}, **SAMPLES}
EACH_VALUE = [{name: value} for name, values in PARAMETERS.items() for value in values if value != DEFAULTS[name]]
PAIRWISE = pairwise(PARAMETERS)
ROWS = [{}, *EACH_VALUE, *PAIRWISE]
IDS = ["defaults"] + [f"{next(iter(row))}={combination_id(row)}" for row in EACH_VALUE]
IDS += [f"pairwise-{combination_id(row)}" for row in PAIRWISE]

WRITE_GRANT = re.compile(r"^\s+[\w-]+: write\b.*$", re.MULTILINE)


def login(registry: str) -> tuple[set[str], dict[str, str], tuple[str, str]]:
    """Registry -> the actions its login takes, the permission a push needs beyond contents: read,
    and the settings that name the push identity and the read-only one: registries/<registry>/."""
    facts = platforms.REGISTRIES[registry]
    permissions = {"packages": "write"} if facts["github_packages"] else {"id-token": "write"} if facts["oidc"] else {}
    return set(facts["login_actions"]), permissions, (facts["identity"]["write"], facts["identity"]["read"])


def deployable(row):
    """`row`, with no deploy when it has no registry: without one, there is nothing to deploy."""
    return {**row, "deploy_target": "none"} if row.get("container_registry") == "none" else row


def needs(job) -> set[str]:
    value = job.get("needs", [])
    return {value} if isinstance(value, str) else set(value)


def branches(context) -> list[str]:
    return pipeline.deploy_branches(context)


def expected_ci_jobs(context) -> dict[str, set[str]]:
    """The jobs the answers call for, and what each waits for: checks, tests and the image start at
    once; the push waits for all of them; ci-ok for everything; the coverage upload for the tests."""
    jobs = {"lint", "bandit", "dependency-review", "test"}
    if context["dependency_audit"] != "none":
        jobs.add("audit")
    graph = {job: set() for job in jobs}
    if context["container_registry"] != "none":
        graph["image"] = set()
        graph["build"] = jobs - {"dependency-review"} | {"image"}
    graph["ci-ok"] = set(graph)
    if context["codecov"] == "yes":
        graph["coverage"] = {"test"}
    return graph


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_generated_pipeline_follows_the_answers(baked, row):
    project = baked(**deployable(row))
    context = project.context
    assert_well_formed(project)
    ci = project.workflow("ci.yml")
    security = project.workflow("security.yml")
    release = project.workflow("release.yml")

    assert_ci_triggers(ci, context)
    assert_ci_jobs(ci, context)
    assert_test_matrix(ci, context)
    assert_image_jobs(ci, context)
    assert_security_workflow(security, context)
    assert_release_workflow(release, context)
    named = [("ci.yml", ci), ("security.yml", security), ("release.yml", release)]
    if context["dependency_audit"] != "none":
        named.append(("audit.yml", project.workflow("audit.yml")))
    for name, data in named:
        assert_hardened(project, name, data, context)
        assert_pinned(project.text(f".github/workflows/{name}"))
        assert_runs_tasks(project, data)
    assert_dependabot(project, project.yaml(".github/dependabot.yml"), context)
    assert_actionlint_config(project, context)
    assert_readme_draws_the_pipeline(project, ci)
    assert_readme_lists_the_settings(project)


def assert_ci_triggers(ci, context):
    on = ci["on"]
    assert on["push"]["branches"] == branches(context)
    assert "tags" not in on["push"], "a release re-tags what a branch built: release.yml"
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
    if "audit" in jobs:  # audit.yml, which security.yml calls too (tests/test_setup_action.py)
        assert jobs["audit"]["uses"] == "$/.github/workflows/audit.yml"
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
    # The code under test never holds an OIDC token: it leaves its report for the coverage job.
    assert test["permissions"] == {"contents": "read"} and not steps_using(test, "codecov/codecov-action")
    kept = steps_using(test, "actions/upload-artifact")
    if context["codecov"] == "no":
        assert not kept and "coverage" not in ci["jobs"]
        return
    assert kept[0]["with"]["path"] == "coverage.xml" and kept[0]["with"]["name"].startswith("coverage-")
    coverage = ci["jobs"]["coverage"]
    assert coverage["permissions"] == {"contents": "read", "id-token": "write"}
    assert not [step for step in coverage["steps"] if "run" in step], "the coverage job runs no code"
    assert steps_using(coverage, "actions/download-artifact")[0]["with"]["pattern"] == "coverage-*"
    upload = steps_using(coverage, "codecov/codecov-action")[0]["with"]
    assert upload["use_oidc"] is True and upload["version"] == pins.TOOLS["codecov-cli"]["version"]
    assert "head.repo.fork" in coverage["if"] and "dependabot[bot]" in coverage["if"]


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
        assert built["cache-from"] == "type=gha"
        buildkit = pins.TOOLS["buildkit"]
        assert steps_using(job, "docker/setup-buildx-action")[0]["with"]["driver-opts"] == (
            f"image={buildkit['image']}:{buildkit['version']}@{buildkit['digest']}"
        )
        # Version tags and `latest` are release.yml's to give.
        meta = steps_using(job, "docker/metadata-action")[0]["with"]
        assert meta["flavor"] == "latest=false" and "semver" not in meta["tags"]
    scanned = steps_using(image, "aquasecurity/trivy-action")
    assert {step["with"]["version"] for step in scanned} == {pins.PINS["aquasecurity/trivy-action"]["trivy"]}
    assert steps_using(image, "docker/build-push-action")[0]["with"]["load"] is True
    assert image["permissions"] == {"contents": "read", "security-events": "write"}

    # Only a push to a deploy branch: no pull request, tag or dispatch pushes an image.
    refs = " || ".join(f"github.ref == 'refs/heads/{branch}'" for branch in branches(context))
    assert build["if"] == f"github.event_name == 'push' && ({refs})"
    assert build["outputs"] == {"image": "${{ env.IMAGE }}", "digest": "${{ steps.build.outputs.digest }}"}
    pushed = steps_using(build, "docker/build-push-action")[0]
    assert pushed["id"] == "build"
    assert pushed["with"]["push"] is True and pushed["with"]["sbom"] is True
    assert pushed["with"]["provenance"] == "mode=max"
    attested = steps_using(build, "actions/attest-build-provenance")[0]["with"]
    assert attested == {
        "subject-name": "${{ env.IMAGE }}",
        "subject-digest": "${{ steps.build.outputs.digest }}",
        "push-to-registry": True,
    }
    assert build["steps"][-1]["uses"].startswith("actions/attest-build-provenance@")
    assert context["project_slug"] in ci["env"]["IMAGE"]
    logins, permissions, (push_identity, _) = login(registry)
    used = {step.get("uses", "").split("@")[0] for step in build["steps"]}
    assert logins <= used
    assert not (set().union(*(login(other)[0] for other in platforms.REGISTRIES)) - logins) & used
    assert push_identity in yaml.safe_dump(build["steps"])
    assert build["permissions"] == {"contents": "read", "attestations": "write", "id-token": "write", **permissions}


def assert_security_workflow(security, context):
    assert set(security["on"]) == {"schedule", "workflow_dispatch"}
    jobs = {"trivy-fs", "codeql"}  # bandit's findings change with the code only: ci.yml's
    if context["dependency_audit"] != "none":
        jobs.add("audit")
        assert security["jobs"]["audit"]["uses"] == "$/.github/workflows/audit.yml"
    if context["container_registry"] != "none":
        jobs.add("trivy-image")
        tags = security["jobs"]["trivy-image"]["strategy"]["matrix"]["tag"]
        assert tags == [branch.replace("/", "-") for branch in branches(context)]
        # The scan reads with the registry's read-only identity, never the push one.
        _, _, (push_identity, read_identity) = login(context["container_registry"])
        logged_in = yaml.safe_dump(security["jobs"]["trivy-image"]["steps"])
        assert read_identity in logged_in and (push_identity == read_identity or push_identity + " " not in logged_in)
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
            assert_runs_on(job["runs-on"], labels, context, where)
        for step in job.get("steps", []):
            assert "${{" not in step.get("run", ""), f"{where}: an expression inside run: pass it in env:"
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, where


def assert_runs_on(runs_on, labels, context, where):
    """The `runner` answer; with runners of your own, a fork's pull request goes to GitHub's."""
    if not pipeline.self_hosted_labels(context):
        assert runs_on == (labels[0] if len(labels) == 1 else labels), where
        return
    match = re.fullmatch(
        r"\$\{\{ github\.event\.pull_request\.head\.repo\.fork && 'ubuntu-latest' \|\| (?:'(.*)'|fromJSON\('(.*)'\)) \}\}",
        runs_on,
    )
    assert match, f"{where}: {runs_on}"
    assert (match[1] or json.loads(match[2])) == (labels[0] if len(labels) == 1 else labels), where


def assert_release_workflow(release, context):
    """A v* tag re-tags the image its commit already has: nothing is built, the digest is verified."""
    assert release["on"] == {"push": {"tags": ["v*"]}}
    (job,) = release["jobs"].values()
    uses = {step.get("uses", "").split("@")[0] for step in job["steps"]}
    assert "docker/build-push-action" not in uses and "docker/setup-buildx-action" not in uses
    names = [step.get("name") for step in job["steps"]]
    assert names[-1] == "Create the GitHub release" and "--generate-notes" in job["steps"][-1]["run"]
    if context["container_registry"] == "none":
        assert job["permissions"] == {"contents": "write"} and "env" not in release
        return
    assert (
        names.index("Find the image built from this commit")
        < names.index("Verify the image's provenance")
        < (names.index("Tag the image with the version"))
    )
    assert "docker buildx imagetools create" in job["steps"][names.index("Tag the image with the version")]["run"]
    _, permissions, (push_identity, _) = login(context["container_registry"])
    assert job["permissions"] == {"attestations": "read", "contents": "write", **permissions}
    assert push_identity in yaml.safe_dump(job["steps"])


def assert_runs_tasks(project, data):
    """The workflows run the project's tasks (one place for commands), and only tasks that exist."""
    tasks = project.module("tasks.py").TASKS
    for job in data["jobs"].values():
        for step in job.get("steps", []):
            if command := step.get("run"):
                if command.startswith("python "):
                    program, task = command.split()[1:]
                    assert program == "tasks.py" and task in tasks, command
    if project.context["dependency_audit"] == "pip-audit":
        assert "--strict" in tasks["audit"][-1]
    assert ("audit" in tasks) == (project.context["dependency_audit"] != "none")


def assert_dependabot(project, config, context):
    updates = config["updates"]
    assert [update["package-ecosystem"] for update in updates] == [
        context["package_manager"],
        "github-actions",
        "docker",
    ]
    # Dependabot reads the action.yml only of the folders named: every one of the project's own.
    actions = project.path.glob(".github/actions/*/action.yml")
    own = sorted("/" + path.parent.relative_to(project.path).as_posix() for path in actions)
    assert own and updates[1]["directories"] == ["/", *own]
    for update in updates:
        assert update["cooldown"]["default-days"] >= 3 and update["groups"]


def assert_actionlint_config(project, context):
    labels = pipeline.self_hosted_labels(context)
    assert project.exists(".github/actionlint.yaml") == bool(labels)
    if labels:
        assert project.yaml(".github/actionlint.yaml") == {"self-hosted-runner": {"labels": labels}}


def assert_readme_draws_the_pipeline(project, ci):
    """The README's Mermaid diagram has exactly the jobs and `needs` of the generated ci.yml."""
    diagram = re.search(r"```mermaid\n(.*?)```", project.text("README.md"), re.DOTALL)[1]
    nodes = {node.replace("_", "-") for node in re.findall(r"^\s+([\w]+)\[", diagram, re.MULTILINE)}
    edges = {
        (a.replace("_", "-"), b.replace("_", "-"))
        for a, b in re.findall(r"^\s+(\w+) --> (\w+)$", diagram, re.MULTILINE)
    }
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


@pytest.mark.long
@pytest.mark.parametrize("group", VALIDATED)
def test_validators_accept_the_generated_files(baked, group):
    projects = [baked(**deployable(row)) for row in VALIDATED[group]]
    assert validators.actionlint(*projects) >= 3 * len(projects)
    assert validators.zizmor(*projects) == 0, "no zizmor finding is suppressed"
    assert validators.check_schemas(*projects) >= 4 * len(projects)
