"""The deploy workflows of baked projects: ci.yml's deploy jobs and manual-deploy.yml calling
deploy.yml, for every target x registry and environment shape; deploy.yml's checks before any
approval (the release's form, then its provenance, with a stand-in `gh` that applies gh's own
policy to recorded attestations); deploy by digest, smoke test, rollback; the pinned kubectl."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import validators
import yaml
from helpers import CHOICES, answers, bake
from workflow_steps import (
    COMMIT,
    DIGEST,
    IMAGE,
    NOTIFY,
    PAIRS,
    SHAPES,
    TARGETS,
    certificate,
    pair_id,
    run_step,
    step,
    steps_using,
    verify_provenance,
)

from flask_cicd import pins, pruning

# --- every target x registry, every environment shape


def test_each_target_meets_every_shape_and_notify():
    for target in CHOICES["deploy_target"]:
        rows = [pair for pair in PAIRS if pair["deploy_target"] == target]
        assert {pair["environments"] for pair in rows} == set(SHAPES.values()), target
        assert {pair["notify"] for pair in rows} == set(NOTIFY), target


@pytest.mark.long
@pytest.mark.parametrize("target", CHOICES["deploy_target"])
def test_every_target_and_registry_bakes_valid_workflows(cookies, target):
    """All of a target's registry pairs in one go: zizmor and the schema check run once."""
    pairs = [pair for pair in PAIRS if pair["deploy_target"] == target]
    projects = [bake(cookies, **pair) for pair in pairs]
    assert validators.actionlint(*projects) == sum(len(workflow_files(p)) for p in projects)
    validators.zizmor(*projects)
    validators.check_schemas(*projects)
    for pair, project in zip(pairs, projects, strict=True):
        for path in pruning.DEPLOY_PATHS:
            assert project.exists(path) == (target != "none"), (pair_id(pair), path)
        assert_deploy_jobs(project)


def granted(jobs) -> dict[str, str]:
    """The permissions of `jobs` together: a scope at the highest level any of them has."""
    levels = {"none": 0, "read": 1, "write": 2}
    union: dict[str, str] = {}
    for job in jobs:
        for scope, level in job.get("permissions", {}).items():
            if levels[level] > levels[union.get(scope, "none")]:
                union[scope] = level
    return union


def workflow_files(project) -> list[Path]:
    return sorted((project.path / ".github" / "workflows").glob("*.yml"))


def assert_deploy_jobs(project):
    """ci.yml deploys each environment, in the answer's order, after build or the one before it."""
    context = project.context
    jobs = project.yaml(".github/workflows/ci.yml")["jobs"]
    deploys = {name: job for name, job in jobs.items() if name.startswith("deploy-")}
    if context["deploy_target"] == "none":
        assert deploys == {}
        return
    environments = answers.check_environments(context["environments"])
    assert list(deploys) == [environment.job for environment in environments]
    for environment in environments:
        job = deploys[environment.job]
        assert job["uses"] == "$/.github/workflows/deploy.yml"
        assert job["with"] == {
            "environment": environment.name,
            "image": "${{ needs.build.outputs.image }}",
            "digest": "${{ needs.build.outputs.digest }}",
            "commit": "${{ github.sha }}",
        }
        assert job["concurrency"] == {"group": f"deploy-{environment.name}", "cancel-in-progress": False}
        if environment.branch:
            assert job["needs"] == ["build"]
            assert job["if"] == f"github.event_name == 'push' && github.ref == 'refs/heads/{environment.branch}'"
        else:
            assert job["needs"] == ["build", f"deploy-{environment.after.lower()}"]
            assert "if" not in job, "a promotion runs only when the deploy before it succeeded"
    # A called workflow's jobs get no more than the caller grants: the callers grant exactly
    # what deploy.yml's jobs need together.
    inner = granted(project.yaml(".github/workflows/deploy.yml")["jobs"].values())
    assert all(job["permissions"] == inner for job in deploys.values())
    manual = project.yaml(".github/workflows/manual-deploy.yml")["jobs"]["deploy"]
    assert manual["permissions"] == inner
    assert all(manual.get("secrets") == job.get("secrets") for job in deploys.values())
    assert manual["concurrency"]["group"] == "deploy-${{ inputs.environment }}"
    assert manual["with"]["image"] == project.yaml(".github/workflows/ci.yml")["env"]["IMAGE"]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("shape", SHAPES)
def test_environment_shapes(cookies, shape, target):
    project = bake(cookies, environments=SHAPES[shape], deploy_target=target)
    environments = answers.check_environments(SHAPES[shape])
    names = [environment.name for environment in environments]
    manual = project.yaml(".github/workflows/manual-deploy.yml")
    # PyYAML reads the key `on` as YAML 1.1 does: as true.
    assert manual[True]["workflow_dispatch"]["inputs"]["environment"]["options"] == names
    metrics = step(project, "metrics.yml", "metrics", name="Compute the metrics")["run"]
    assert re.findall(r"--environment (\S+)", metrics) == names
    if target == "kubernetes":
        overlays = sorted(p.name for p in (project.path / "deploy/kubernetes/overlays").iterdir())
        assert overlays == sorted(names)
    assert_deploy_jobs(project)


def test_no_deploy_target_leaves_no_deploy_files(cookies):
    project = bake(cookies, deploy_target="none", container_registry="none")
    assert not project.exists("deploy")
    for path in pruning.DEPLOY_PATHS:
        assert not project.exists(path)
    assert "--environment" not in project.text(".github/workflows/metrics.yml")
    assert "## Deployments" not in project.text("README.md")
    assert "ENVIRONMENTS" not in project.text("scripts/setup_github.sh")


# --- what deploy.yml does, target by target


@pytest.mark.parametrize("notify", NOTIFY)
@pytest.mark.parametrize("target", TARGETS)
def test_deploys_by_digest_smoke_test_then_roll_back_on_failure(cookies, target, notify):
    project = bake(cookies, deploy_target=target, notify=notify)
    job = project.yaml(".github/workflows/deploy.yml")["jobs"]["deploy"]
    steps = job["steps"]
    assert job["environment"] == {"name": "${{ inputs.environment }}", "url": "${{ vars.APP_URL }}"}
    ids = [s.get("id") for s in steps]
    smoke = [i for i, s in enumerate(steps) if "scripts/smoke_test.py" in s.get("run", "")]
    assert smoke and all('--commit "$COMMIT"' in steps[i]["run"] for i in smoke)
    deploy, rollback = ids.index("deploy"), ids.index("rollback")
    assert deploy < smoke[0] < rollback == smoke[-1] + 1
    assert steps[rollback]["if"].startswith("failure() && ")
    # The image always by digest: the deploy step (or the release it renders) names both.
    text = yaml.safe_dump(steps[: rollback + 1])
    assert "inputs.image }}@${{ inputs.digest }}" in text or '"$IMAGE@$DIGEST"' in text or "digest: $DIGEST" in text
    assert not re.search(r"inputs\.image \}\}:", text), "an image by tag"
    if notify == "none":
        assert steps[-1] is steps[rollback]
    else:
        assert steps[-1]["name"] == "Tell the team" and steps[-1]["if"] == "always()"


GOOD_RELEASE = {"IMAGE": IMAGE, "DIGEST": DIGEST, "COMMIT": COMMIT}


@pytest.mark.parametrize(
    ("release", "errors"),
    [
        pytest.param(GOOD_RELEASE, [], id="good"),
        pytest.param({**GOOD_RELEASE, "IMAGE": IMAGE + ":latest"}, ["image"], id="tagged-image"),
        pytest.param({**GOOD_RELEASE, "DIGEST": "latest"}, ["digest"], id="tag-for-digest"),
        pytest.param({**GOOD_RELEASE, "DIGEST": DIGEST + "; rm -rf /"}, ["digest"], id="injection"),
        pytest.param({**GOOD_RELEASE, "COMMIT": "main"}, ["commit"], id="branch-for-commit"),
        pytest.param({"IMAGE": "", "DIGEST": "", "COMMIT": ""}, ["image", "digest", "commit"], id="empty"),
    ],
)
def test_the_release_is_checked_before_any_approval(baked, tmp_path, release, errors):
    project = baked()
    script = step(project, "deploy.yml", "check", name="Check the image, digest and commit")["run"]
    result, _ = run_step(project, script, release, tmp_path, check=False)
    assert (result.returncode != 0) == bool(errors)
    reported = re.findall(r"^::error::(\w+)", result.stdout, flags=re.MULTILINE)
    assert reported == errors


# --- the image's provenance, verified before any approval

NO_ATTESTATION = "carries no provenance attestation"
NOT_A_DEPLOY_BRANCH = "was not built by a push to a deploy branch"
ANOTHER_COMMIT = "was built from"
PROVENANCE = [
    pytest.param([certificate()], COMMIT, None, id="built-on-main"),
    pytest.param([certificate(ref="refs/heads/develop")], COMMIT[:7], None, id="on-develop-short-commit"),
    pytest.param([certificate(ref="refs/heads/feature"), certificate()], COMMIT, None, id="also-on-a-branch"),
    pytest.param([], COMMIT, NO_ATTESTATION, id="pushed-by-hand"),
    pytest.param([certificate(repo="someone/else")], COMMIT, NO_ATTESTATION, id="another-repository"),
    pytest.param([certificate(workflow="evil.yml")], COMMIT, NO_ATTESTATION, id="another-workflow"),
    pytest.param([certificate(runner="self-hosted")], COMMIT, NO_ATTESTATION, id="self-hosted-runner"),
    pytest.param([certificate(ref="refs/heads/feature")], COMMIT, NOT_A_DEPLOY_BRANCH, id="unreviewed-branch"),
    pytest.param([certificate(ref="refs/heads/mai")], COMMIT, NOT_A_DEPLOY_BRANCH, id="prefix-of-main"),
    pytest.param([certificate(ref="refs/tags/v9.9.9")], COMMIT, NOT_A_DEPLOY_BRANCH, id="tag"),
    pytest.param([certificate(trigger="workflow_dispatch")], COMMIT, NOT_A_DEPLOY_BRANCH, id="dispatched"),
    pytest.param([certificate(commit="f" * 40)], COMMIT, ANOTHER_COMMIT, id="another-commit"),
]


@pytest.mark.parametrize(("certificates", "commit", "refused"), PROVENANCE)
def test_deploys_only_what_ci_built_on_a_deploy_branch_from_that_commit(baked, tmp_path, certificates, commit, refused):
    project = baked(environments="staging:develop, production:main")
    result = verify_provenance(project, tmp_path, "deploy.yml", "check", certificates, commit)
    if refused is None:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "built by ci.yml from " + COMMIT in result.stdout
    else:
        assert result.returncode == 1
        (error,) = re.findall(r"^::error::(.*)$", result.stdout, re.MULTILINE)
        assert (
            error.startswith(f"{IMAGE}@{DIGEST} ")
            and refused in error
            and error.endswith("refused" + ("" if refused != ANOTHER_COMMIT else " (deploy it with its own commit)"))
        )


def test_the_check_runs_before_the_approval_with_what_it_needs(cookies):
    project = bake(cookies, container_registry="ecr", deploy_target="ecs")
    jobs = project.yaml(".github/workflows/deploy.yml")["jobs"]
    check, deploy = jobs["check"], jobs["deploy"]
    assert "environment" not in check and deploy["needs"] == "check"
    names = [s.get("name") for s in check["steps"]]
    assert names[0] == "Check the image, digest and commit" and names[-1] == "Verify the image's provenance"
    # The registry's read-only identity reads the image; the push role is not in deploy.yml.
    login = steps_using(check, "aws-actions/configure-aws-credentials")[0]
    assert login["with"]["role-to-assume"] == "${{ vars.AWS_READ_ROLE_ARN }}"
    assert check["permissions"] == {"attestations": "read", "id-token": "write"}
    verify = check["steps"][-1]
    assert verify["env"]["DEPLOY_REFS"] == "refs/heads/develop refs/heads/main"
    assert "--deny-self-hosted-runners" in verify["run"]
    # With runners of your own, the attestation comes from one of them: gh must accept that.
    own = bake(cookies, runner="self-hosted, linux")
    assert (
        "--deny-self-hosted-runners"
        not in step(own, "deploy.yml", "check", name="Verify the image's provenance")["run"]
    )


# --- kubectl: the version pinned, the binary checked before it sees the cluster's credentials


def test_kubectl_is_pinned_and_checked_against_its_published_checksum(cookies, tmp_path):
    project = bake(cookies, deploy_target="kubernetes")
    job = project.yaml(".github/workflows/deploy.yml")["jobs"]["deploy"]
    names = [s.get("name") for s in job["steps"]]
    setup = step(project, "deploy.yml", "deploy", name="Set up kubectl")
    assert setup["with"] == {"version": pins.TOOLS["kubectl"]["version"]}
    checked = names.index("Check kubectl's checksum")
    assert checked == names.index("Set up kubectl") + 1 < names.index("Connect to the cluster")
    script = job["steps"][checked]["run"]
    # The kubectl of requirements-dev.txt is that very release for linux/amd64: its bytes pass.
    real = Path(validators.tool("kubectl"))
    assert run_step(project, script, {"KUBECTL": str(real), "RUNNER_ARCH": "X64"}, tmp_path)[0].returncode == 0
    tampered = tmp_path / "kubectl"
    tampered.write_bytes(real.read_bytes() + b"\0")
    failed, _ = run_step(project, script, {"KUBECTL": str(tampered), "RUNNER_ARCH": "X64"}, tmp_path, check=False)
    assert failed.returncode != 0 and "FAILED" in failed.stdout
    other, _ = run_step(project, script, {"KUBECTL": str(real), "RUNNER_ARCH": "ARM"}, tmp_path, check=False)
    assert other.returncode == 1 and "no kubectl checksum pinned for ARM" in other.stdout
