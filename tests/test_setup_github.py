"""scripts/setup_github.sh against a stand-in `gh` that answers as GitHub's REST API does (its
--jq applied by the real jq) and records every call: the environments, the rulesets on the
deploy branches and the release tags, for an organisation (a team owns the code) and for a
personal account (nobody is locked out), and the required checks named as ci.yml names them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from helpers import answers, bake, run
from validators import tool
from workflow_steps import SHAPES, fake_commands

from flask_cicd import pipeline, platforms

FAKE_GH = """#!{python}
import json, os, re, subprocess, sys

args = sys.argv[1:]
world = json.load(open(os.environ["GH_WORLD"]))
if args[:2] == ["repo", "view"]:
    sys.exit("gh repo view: pass OWNER/REPO in the tests")
valued = {{"--method", "--jq", "--input", "-f"}}
path = next(a for i, a in enumerate(args) if i > 0 and not a.startswith("-") and args[i - 1] not in valued)
method = args[args.index("--method") + 1] if "--method" in args else "GET"
body = json.loads(sys.stdin.read()) if "--input" in args else None
fields = dict(args[i + 1].split("=", 1) for i, a in enumerate(args) if a == "-f")
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({{"method": method, "path": path, "body": body, "fields": fields}}) + "\\n")
if any(re.fullmatch(pattern, f"{{method}} {{path}}") for pattern in world.get("refuse", [])):
    sys.exit(f"gh: Upgrade to GitHub Pro or make this repository public to enable this feature. (HTTP 403)")
if method != "GET":
    sys.exit(0)
if path not in world["answers"]:
    sys.exit("gh: Not Found (HTTP 404)")
answer = json.dumps(world["answers"][path])
if "--jq" in args:
    jq = subprocess.run(["jq", "-r", args[args.index("--jq") + 1]], input=answer, capture_output=True, text=True)
    sys.stdout.write(jq.stdout)
    sys.exit(jq.returncode)
if "--silent" not in args:
    print(answer)
"""
ADA = 7001
PLATFORM = 9001


def world(owner: str, kind: str, environments: str, rulesets=(), refuse=()) -> dict:
    """GitHub as the script finds it: a new repository whose only branch is main."""
    repo = f"repos/{owner}/flask-service"
    found = {
        repo: {"owner": {"login": owner, "type": kind}, "default_branch": "main"},
        "user": {"login": "ada"},
        "users/ada": {"id": ADA},
        "users/bob": {"id": 7002},
        f"{repo}/branches/main": {"name": "main"},
        f"{repo}/git/ref/heads/main": {"object": {"sha": "f" * 40}},
        f"{repo}/rulesets": [{"id": 40 + i, "name": name} for i, name in enumerate(rulesets)],
    }
    if kind == "Organization":
        found[f"orgs/{owner}/teams/platform"] = {"id": PLATFORM, "slug": "platform"}
    for environment in answers.check_environments(environments):
        found[f"{repo}/environments/{environment.name}/deployment-branch-policies"] = {"branch_policies": []}
    return {"answers": found, "refuse": list(refuse)}


def setup_github(project, tmp_path, github: dict, owner: str, **env) -> tuple[subprocess.CompletedProcess, list[dict]]:
    fakes = fake_commands(tmp_path / "bin", {"gh": FAKE_GH.format(python=sys.executable)})
    (tmp_path / "world.json").write_text(json.dumps(github))
    log = tmp_path / "gh.log"
    log.write_text("")
    result = subprocess.run(
        ["bash", "scripts/setup_github.sh", f"{owner}/flask-service"],
        cwd=project.path,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PATH": f"{fakes}{os.pathsep}{os.environ['PATH']}",
            "GH_WORLD": str(tmp_path / "world.json"),
            "FAKE_LOG": str(log),
            **env,
        },
    )
    return result, [json.loads(line) for line in log.read_text().splitlines()]


def writes(log, method, pattern) -> list[dict]:
    return [call for call in log if call["method"] == method and re.fullmatch(pattern, call["path"])]


def ruleset(log, name) -> dict:
    (call,) = [
        c
        for c in log
        if c["method"] in ("POST", "PUT") and c["path"].split("/")[3] == "rulesets" and c["body"]["name"] == name
    ]
    return call["body"]


def rules(body) -> dict:
    return {rule["type"]: rule.get("parameters") for rule in body["rules"]}


def assert_environments(log, owner, environments, reviewers, prevent_self_review):
    created = writes(log, "PUT", rf"repos/{owner}/flask-service/environments/[^/]+")
    assert [call["path"].rsplit("/", 1)[1] for call in created] == [e.name for e in environments]
    branch = None
    for environment, call in zip(environments, created, strict=True):
        branch = environment.branch or branch  # a promoted environment deploys its chain's branch
        reviewed = bool(environment.after) or environment is environments[-1]
        assert call["body"]["reviewers"] == (reviewers if reviewed else None), environment
        assert call["body"]["prevent_self_review"] is prevent_self_review
        assert call["body"]["deployment_branch_policy"] == {"protected_branches": False, "custom_branch_policies": True}
        (policy,) = writes(
            log, "POST", rf"repos/{owner}/flask-service/environments/{environment.name}/deployment-branch-policies"
        )
        assert policy["fields"] == {"name": branch, "type": "branch"}


def assert_rulesets(log, project, branches, approvals, code_owners):
    deploy = ruleset(log, "deploy branches")
    assert deploy["target"] == "branch" and deploy["enforcement"] == "active" and deploy["bypass_actors"] == []
    assert deploy["conditions"]["ref_name"]["include"] == [f"refs/heads/{b}" for b in branches]
    pull_request = rules(deploy)["pull_request"]
    assert pull_request["required_approving_review_count"] == approvals
    assert pull_request["require_code_owner_review"] is code_owners
    assert pull_request["dismiss_stale_reviews_on_push"] is True
    checks = rules(deploy)["required_status_checks"]["required_status_checks"]
    assert [check["context"] for check in checks] == required_checks(project)
    # Satisfied by GitHub Actions only, not by a status posted by hand under the same name.
    assert {check["integration_id"] for check in checks} == {15368}
    assert {"deletion", "non_fast_forward", "required_linear_history"} <= set(rules(deploy))
    tags = ruleset(log, "release tags")
    assert tags["target"] == "tag" and tags["conditions"]["ref_name"]["include"] == [
        "refs/tags/v*",
        "refs/tags/v*/**/*",
    ]
    assert set(rules(tags)) == {"creation", "update", "deletion"}
    assert tags["bypass_actors"] == [{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}]


@pytest.mark.parametrize("shape", SHAPES)
def test_an_organisation_s_team_owns_the_code_and_reviews(cookies, tmp_path, shape):
    project = bake(cookies, environments=SHAPES[shape])
    run([tool("shellcheck"), "scripts/setup_github.sh"], cwd=project.path)
    codeowners = project.text(".github/CODEOWNERS")
    result, log = setup_github(
        project, tmp_path, world("your-org", "Organization", SHAPES[shape]), "your-org", TEAM="platform"
    )
    assert result.returncode == 0, result.stderr
    environments = answers.check_environments(SHAPES[shape])
    branches = pipeline.deploy_branches({"environments": SHAPES[shape]})
    assert_environments(log, "your-org", environments, [{"type": "Team", "id": PLATFORM}], True)
    assert_rulesets(log, project, branches, approvals=1, code_owners=True)
    # CODEOWNERS now names the team wherever it named the organisation, comments aside.
    owners = [
        line.split()[1:]
        for line in project.text(".github/CODEOWNERS").splitlines()
        if line and not line.startswith("#")
    ]
    assert owners and all(names == ["@your-org/platform"] for names in owners)
    assert [line for line in project.text(".github/CODEOWNERS").splitlines() if line.startswith("#")] == [
        line for line in codeowners.splitlines() if line.startswith("#")
    ]
    # Rulesets replace the classic protection of an earlier run.
    assert sorted(call["path"].split("/")[4] for call in writes(log, "DELETE", r".+/protection")) == sorted(branches)
    assert ("develop" in branches) == bool(writes(log, "POST", r"repos/your-org/flask-service/git/refs"))


@pytest.mark.parametrize(
    ("reviewers", "expected", "prevent_self_review"),
    [
        (None, [{"type": "User", "id": ADA}], False),  # alone: approving your own deploy, or none
        ("user:ada user:bob", [{"type": "User", "id": ADA}, {"type": "User", "id": 7002}], True),
    ],
)
def test_a_personal_account_is_never_locked_out(cookies, tmp_path, reviewers, expected, prevent_self_review):
    project = bake(cookies)
    codeowners = project.text(".github/CODEOWNERS")
    env = {"REVIEWERS": reviewers} if reviewers else {}
    result, log = setup_github(project, tmp_path, world("ada", "User", SHAPES["default"]), "ada", **env)
    assert result.returncode == 0, result.stderr
    assert_environments(log, "ada", answers.check_environments(SHAPES["default"]), expected, prevent_self_review)
    # Nobody can approve their own pull request: none is required, and no code owner either.
    assert_rulesets(log, project, ["develop", "main"], approvals=0, code_owners=False)
    assert project.text(".github/CODEOWNERS") == codeowners
    assert not [call for call in log if call["path"].startswith("orgs/")]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "TEAM: your-org is an organisation; name the team that owns the code"),
        ({"TEAM": "nobody"}, "TEAM: your-org has no team 'nobody'"),
    ],
)
def test_an_organisation_without_its_team_stops_before_changing_anything(cookies, tmp_path, env, message):
    project = bake(cookies)
    result, log = setup_github(
        project, tmp_path, world("your-org", "Organization", SHAPES["default"]), "your-org", **env
    )
    assert result.returncode == 2 and message in result.stderr
    assert [call for call in log if call["method"] != "GET"] == []


def test_a_second_run_updates_the_rulesets(cookies, tmp_path):
    project = bake(cookies)
    github = world("ada", "User", SHAPES["default"], rulesets=["deploy branches", "release tags"])
    result, log = setup_github(project, tmp_path, github, "ada")
    assert result.returncode == 0, result.stderr
    assert [(c["method"], c["path"]) for c in log if "rulesets" in c["path"] and c["method"] != "GET"] == [
        ("PUT", "repos/ada/flask-service/rulesets/40"),
        ("PUT", "repos/ada/flask-service/rulesets/41"),
    ]


def test_without_rulesets_the_branches_get_classic_protection_and_the_tags_a_clear_error(cookies, tmp_path):
    project = bake(cookies)
    github = world("ada", "User", SHAPES["default"], refuse=[r"POST repos/ada/flask-service/rulesets"])
    result, log = setup_github(project, tmp_path, github, "ada")
    assert result.returncode == 1
    assert "cannot protect its release tags without rulesets" in result.stderr
    protected = writes(log, "PUT", r"repos/ada/flask-service/branches/[^/]+/protection")
    assert [call["path"].split("/")[4] for call in protected] == ["develop", "main"]
    for call in protected:
        reviews = call["body"]["required_pull_request_reviews"]
        assert reviews["required_approving_review_count"] == 0 and reviews["require_code_owner_reviews"] is False
        checks = call["body"]["required_status_checks"]["checks"]
        assert checks == [{"context": name, "app_id": 15368} for name in required_checks(project)]


def required_checks(project) -> list[str]:
    return (
        re.search(r"^REQUIRED_CHECKS=\((.*)\)$", project.text("scripts/setup_github.sh"), re.MULTILINE).group(1).split()
    )


def check_names(project) -> set[str]:
    """The names GitHub gives ci.yml's checks: each job's name, a matrix job's once per combination."""
    names = set()
    for job_id, job in project.yaml(".github/workflows/ci.yml")["jobs"].items():
        name = job.get("name", job_id)
        matrix = job.get("strategy", {}).get("matrix", {})
        combinations = [{}]
        for key, values in matrix.items():
            combinations = [{**c, key: value} for c in combinations for value in values]
        for combination in combinations:
            names.add(
                re.sub(r"\$\{\{ matrix\.([\w-]+) \}\}", lambda m, combination=combination: str(combination[m[1]]), name)
            )
    return names


@pytest.mark.parametrize("overrides", [{}, {"container_registry": "none", "deploy_target": "none"}])
def test_required_checks_are_named_as_ci_names_them(cookies, overrides):
    project = bake(cookies, **overrides)
    names = check_names(project)
    assert required_checks(project) and set(required_checks(project)) <= names
    # That one check stands for all the others: the gate needs every job but the deploys and
    # the coverage upload, which come after it.
    ci = project.yaml(".github/workflows/ci.yml")["jobs"]
    (gate,) = required_checks(project)
    after = {gate, "coverage"}
    assert set(ci[gate]["needs"]) == {name for name in ci if name not in after and not name.startswith("deploy-")}
    matrix = answers.split_list(project.context["os_matrix"])
    versions = answers.python_versions(project.context["python_versions"])
    assert len([name for name in names if name.startswith("test (")]) == len(matrix) * len(versions)


PUSH_ENVIRONMENTS = [name for name, facts in platforms.REGISTRIES.items() if facts["push_environment"]]


@pytest.mark.parametrize("registry", PUSH_ENVIRONMENTS)
def test_a_push_token_is_reachable_from_the_deploy_branches_and_release_tags_only(cookies, tmp_path, registry):
    """Docker Hub's token (and any registry's that keeps its push secret in an environment)."""
    facts = platforms.REGISTRIES[registry]
    environment_name, token = facts["push_environment"], facts["identity"]["write"]
    project = bake(cookies, container_registry=registry, deploy_target="ssh-compose")
    github = world("ada", "User", SHAPES["default"])
    github["answers"][f"repos/ada/flask-service/environments/{environment_name}/deployment-branch-policies"] = {
        "branch_policies": [{"name": "main", "type": "branch"}],  # a second run: one policy is there
    }
    result, log = setup_github(project, tmp_path, github, "ada")
    assert result.returncode == 0, result.stderr
    (environment,) = writes(log, "PUT", rf"repos/ada/flask-service/environments/{environment_name}")
    assert environment["body"]["deployment_branch_policy"] == {
        "protected_branches": False,
        "custom_branch_policies": True,
    }
    added = writes(log, "POST", rf"repos/ada/flask-service/environments/{environment_name}/deployment-branch-policies")
    assert [call["fields"] for call in added] == [{"name": "develop", "type": "branch"}, {"name": "v*", "type": "tag"}]
    assert f"gh secret set {token} --env {environment_name}" in result.stdout
    # The jobs that push, and only they, take the token from that environment.
    for workflow, job in (("ci.yml", "build"), ("release.yml", "release")):
        jobs = project.yaml(f".github/workflows/{workflow}")["jobs"]
        assert jobs[job]["environment"] == environment_name, workflow
        assert f"secrets.{token}" in json.dumps(jobs[job])
        others = {name for name, other in jobs.items() if f"secrets.{token}" in json.dumps(other)}
        assert others == {job}, workflow
