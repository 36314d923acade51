"""scripts/bootstrap_aws.sh and the generated ECS deploy, with the real `aws` CLI against moto's
local AWS (moto_server): the OIDC provider, the least-privilege roles and their trust documents,
the ECR repository, clusters, secrets and services; then deploy.yml's ECS steps, secrets merged,
and the rollback.

moto runs no tasks, so the services are made with DESIRED_COUNT=0: `aws ecs wait services-stable`
then holds at once (running == desired, one deployment) instead of never."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import bake, free_port
from validators import tool
from warm_aws import aws_on_path
from workflow_steps import DIGEST, REPOSITORY, deploy_job_env, printed_variables, run_step, step

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's


@pytest.fixture
def aws(tmp_path):
    """A fresh moto server; returns the environment that points the aws CLI at it, the CLI kept
    warm (warm_aws.py: the real CLI, its start-up done once)."""
    port = free_port()
    log = (tmp_path / "moto.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        env={
            **os.environ,
            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
            "MOTO_ENABLE_RECORDING": "True",
            "MOTO_RECORDER_FILEPATH": str(tmp_path / "moto_recording"),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            break
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, "moto_server did not start"
            time.sleep(0.2)
    urllib.request.urlopen(
        urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/recorder/start-recording", method="POST")
    )
    with aws_on_path(tmp_path / "warm_aws") as path:
        yield {**env, **path}
    server.terminate()
    server.wait(timeout=10)
    log.close()


def cli(env, *args) -> dict | str:
    result = subprocess.run(["aws", *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"aws {' '.join(args)}: {result.stderr}"
    return json.loads(result.stdout) if result.stdout.strip().startswith(("{", "[")) else result.stdout.strip()


def bootstrap(project, env, **extra) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["bash", "scripts/bootstrap_aws.sh"],
        cwd=project.path,
        env={**os.environ, **env, **extra},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result


def trust_subjects(document: dict) -> list[str]:
    (statement,) = document["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert (
        statement["Principal"]["Federated"]
        == f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    )
    conditions = statement["Condition"]
    assert conditions["StringEquals"]["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    subject = {**conditions.get("StringLike", {}), **conditions["StringEquals"]}[
        "token.actions.githubusercontent.com:sub"
    ]
    return subject if isinstance(subject, list) else [subject]


def requests(env, target: str) -> list[dict]:
    """The JSON bodies of the recorded requests to `target` (moto stores some fields it ignores)."""
    with urllib.request.urlopen(f"{env['AWS_ENDPOINT_URL']}/moto-api/recorder/download-recording") as response:
        lines = response.read().decode().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    bodies = [
        base64.b64decode(r["body"]) if r.get("body_encoded") else r["body"]
        for r in records
        if r["headers"].get("X-Amz-Target", "").endswith(f".{target}")
    ]
    return [json.loads(body) for body in bodies]


def role(env, name) -> dict:
    return cli(env, "iam", "get-role", "--role-name", name)["Role"]


@pytest.mark.slow
def test_bootstrap_then_deploy_and_roll_back_on_moto(cookies, aws, tmp_path):
    project = bake(cookies, deploy_target="ecs", container_registry="ecr", error_tracking="sentry")
    project.run(tool("shellcheck"), "scripts/bootstrap_aws.sh")

    # First run, as a newcomer might: no network given, no Sentry DSN yet.
    first = bootstrap(project, aws)
    assert "needs a person: SENTRY_DSN for staging" in first.stderr
    assert "needs a person: the service of staging" in first.stderr
    # Again, with what it asked for: it keeps what exists and adds the rest.
    vpc = cli(aws, "ec2", "create-vpc", "--cidr-block", "10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = cli(aws, "ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.1.0/24")["Subnet"]["SubnetId"]
    group = cli(aws, "ec2", "create-security-group", "--group-name", "app", "--description", "app", "--vpc-id", vpc)[
        "GroupId"
    ]
    dsn = "https://key@sentry.example/1"
    second = bootstrap(project, aws, SENTRY_DSN=dsn, SUBNETS=subnet, SECURITY_GROUPS=group, DESIRED_COUNT="0")
    assert "needs a person" not in second.stderr and "creating the role" not in second.stderr
    variables = printed_variables(second.stdout)

    # The identity provider, and each role trusted for exactly what uses it.
    providers = cli(aws, "iam", "list-open-id-connect-providers")["OpenIDConnectProviderList"]
    assert [p["Arn"] for p in providers] == [
        f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    ]
    push = role(aws, "flask-service-github-push")
    assert trust_subjects(push["AssumeRolePolicyDocument"]) == [
        f"repo:{REPOSITORY}:ref:refs/heads/develop",
        f"repo:{REPOSITORY}:ref:refs/heads/main",
        f"repo:{REPOSITORY}:ref:refs/tags/v*",
    ]
    assert trust_subjects(role(aws, "flask-service-github-read")["AssumeRolePolicyDocument"]) == [
        f"repo:{REPOSITORY}:ref:refs/heads/develop",
        f"repo:{REPOSITORY}:ref:refs/heads/main",
    ]
    for environment in ("staging", "production"):
        deploy_role = role(aws, f"flask-service-deploy-{environment}")
        assert trust_subjects(deploy_role["AssumeRolePolicyDocument"]) == [
            f"repo:{REPOSITORY}:environment:{environment}"
        ]
        assert variables[("AWS_ROLE_ARN", environment)] == deploy_role["Arn"]
    # The permissions are the reviewed files, account and region filled in.
    read_policy = cli(
        aws,
        "iam",
        "get-role-policy",
        "--role-name",
        "flask-service-github-read",
        "--policy-name",
        "flask-service-github-read",
    )
    statements = read_policy["PolicyDocument"]["Statement"]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not any(action in actions for action in ("ecr:PutImage", "ecr:InitiateLayerUpload")), (
        "the read-only role only reads"
    )
    assert cli(aws, "ecr", "describe-repositories")["repositories"][0]["repositoryName"] == "flask-service"

    # Every variable the workflows read is printed, but APP_URL (the service's own address).
    read = set()
    for workflow in (project.path / ".github/workflows").glob("*.yml"):
        read |= set(re.findall(r"vars\.(\w+)", workflow.read_text()))
    printed = {name for name, _ in variables}
    assert read - printed == {"APP_URL"}
    assert variables[("AWS_ROLE_ARN", None)] == push["Arn"] and ("AWS_READ_ROLE_ARN", None) in variables
    secret = cli(aws, "secretsmanager", "get-secret-value", "--secret-id", variables[("ECS_SENTRY_DSN_ARN", "staging")])
    assert secret["SecretString"] == dsn
    key = cli(aws, "secretsmanager", "get-secret-value", "--secret-id", variables[("ECS_SECRET_KEY_ARN", "staging")])
    assert len(key["SecretString"]) == 64

    # deploy.yml's ECS steps for staging, with the printed variables.
    staging = {name: value for (name, env), value in variables.items() if env in (None, "staging")}
    service = cli(aws, "ecs", "describe-services", "--cluster", staging["ECS_CLUSTER"], "--services", "flask-service")[
        "services"
    ][0]
    created = [body for body in requests(aws, "CreateService") if body["cluster"] == staging["ECS_CLUSTER"]]
    assert created[0]["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    job = {**deploy_job_env(project), "ENVIRONMENT": "staging", **aws}
    record = step(project, "deploy.yml", "deploy", id="previous")
    _, previous = run_step(
        project, record["run"], {**job, "CLUSTER": staging["ECS_CLUSTER"], "SERVICE": "flask-service"}, tmp_path
    )
    assert previous["release"] == service["taskDefinition"]

    fill = step(project, "deploy.yml", "deploy", id="environment")
    fill_env = {
        "EXECUTION_ROLE_ARN": staging["ECS_EXECUTION_ROLE_ARN"],
        "REGION": REGION,
        "SECRET_KEY_ARN": staging["ECS_SECRET_KEY_ARN"],
        "SENTRY_DSN_ARN": staging["ECS_SENTRY_DSN_ARN"],
    }
    _, filled = run_step(project, fill["run"], {**job, **fill_env}, tmp_path)
    definition = json.loads(Path(filled["task-definition"]).read_text())
    # What amazon-ecs-render-task-definition and amazon-ecs-deploy-task-definition then do.
    image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/flask-service@{DIGEST}"
    definition["containerDefinitions"][0]["image"] = image
    registered = cli(aws, "ecs", "register-task-definition", "--cli-input-json", json.dumps(definition))[
        "taskDefinition"
    ]
    cli(
        aws,
        "ecs",
        "update-service",
        "--cluster",
        staging["ECS_CLUSTER"],
        "--service",
        "flask-service",
        "--task-definition",
        registered["taskDefinitionArn"],
    )
    running = cli(aws, "ecs", "describe-services", "--cluster", staging["ECS_CLUSTER"], "--services", "flask-service")[
        "services"
    ][0]
    assert running["taskDefinition"] == registered["taskDefinitionArn"]
    container = cli(aws, "ecs", "describe-task-definition", "--task-definition", running["taskDefinition"])[
        "taskDefinition"
    ]["containerDefinitions"][0]
    assert container["image"] == image
    assert {s["name"]: s["valueFrom"] for s in container["secrets"]} == {
        "SECRET_KEY": staging["ECS_SECRET_KEY_ARN"],
        "SENTRY_DSN": staging["ECS_SENTRY_DSN_ARN"],
    }

    # The smoke test failed (say): deploy.yml's rollback puts the recorded task definition back.
    rollback = step(project, "deploy.yml", "deploy", id="rollback")
    rollback_env = {
        **job,
        "CLUSTER": staging["ECS_CLUSTER"],
        "SERVICE": "flask-service",
        "TASK_DEFINITION": previous["release"],
    }
    run_step(project, rollback["run"], rollback_env, tmp_path)
    back = cli(aws, "ecs", "describe-services", "--cluster", staging["ECS_CLUSTER"], "--services", "flask-service")[
        "services"
    ][0]
    assert back["taskDefinition"] == previous["release"] != registered["taskDefinitionArn"]
