"""scripts/bootstrap_gcp.sh and bootstrap_azure.sh, run against a recording fake `gcloud` / `az`
(no emulator speaks their APIs): shellcheck-clean, the exact commands, and trust that names
exactly this repository's deploy branches, default branch and environments. Every variable
the workflows read is printed, but APP_URL (the service's own address)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from helpers import bake
from validators import tool
from workflow_steps import REPOSITORY, printed_variables

FAKE = """#!{python}
# A cloud CLI that records its arguments and answers as a fresh account would.
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
line = " ".join(args)
for pattern, code, output in json.loads(os.environ["FAKE_ANSWERS"]):
    if pattern in line:
        print(output)
        sys.exit(code)
"""
# (a piece of the command line, exit code, output): the first that matches answers.
GCLOUD = [
    ("projects describe", 0, "123456"),
    (" describe ", 1, ""),
]
AZ = [
    ("account show --query id", 0, "sub-1"),
    ("account show --query tenantId", 0, "tenant-1"),
    ("group exists", 0, "false"),
    ("ad app list", 0, ""),
    ("ad app create --display-name flask-service-github-push", 0, "client-push"),
    ("ad app create --display-name flask-service-github-read", 0, "client-read"),
    ("ad app create --display-name flask-service-deploy-staging", 0, "client-staging"),
    ("ad app create --display-name flask-service-deploy-production", 0, "client-production"),
    ("acr show --name flaskservice --query id", 0, "/subscriptions/sub-1/registries/flaskservice"),
    ("acr show", 1, ""),
    ("webapp show --name flask-service-staging", 0, "/subscriptions/sub-1/sites/flask-service-staging"),
    ("webapp show", 1, ""),
]


def run_bootstrap(
    project, tmp_path, cli: str, script: str, answers: list, **env
) -> tuple[list[list[str]], subprocess.CompletedProcess]:
    fake = tmp_path / "bin" / cli
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(FAKE.format(python=sys.executable))
    fake.chmod(0o755)
    log = tmp_path / f"{cli}.log"
    result = subprocess.run(
        ["bash", script],
        cwd=project.path,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}",
            "FAKE_LOG": str(log),
            "FAKE_ANSWERS": json.dumps(answers),
            **env,
        },
    )
    assert result.returncode == 0, result.stderr
    subprocess.run([tool("shellcheck"), script], cwd=project.path, check=True)
    return [json.loads(line) for line in log.read_text().splitlines()], result


def calls(log, *words) -> list[list[str]]:
    return [args for args in log if args[: len(words)] == list(words)]


def option(args, name) -> str:
    return args[args.index(name) + 1]


def workflow_variables(project) -> set[str]:
    read = set()
    for workflow in (project.path / ".github/workflows").glob("*.yml"):
        read |= set(re.findall(r"vars\.(\w+)", workflow.read_text()))
    return read


@pytest.mark.parametrize("sentry", [False, True])
def test_gcp_bootstrap_trusts_exactly_this_repository(cookies, tmp_path, sentry):
    project = bake(
        cookies, deploy_target="cloud-run", container_registry="gar", error_tracking="sentry" if sentry else "none"
    )
    env = {
        "GCP_PROJECT_ID": "proj",
        "GCP_REGION": "europe-west1",
        **({"SENTRY_DSN": "https://k@s.example/1"} if sentry else {}),
    }
    log, result = run_bootstrap(project, tmp_path, "gcloud", "scripts/bootstrap_gcp.sh", GCLOUD, **env)
    assert all(args[:2] == ["--project", "proj"] for args in log)
    log = [args[3:] for args in log]  # without --project proj --quiet

    (provider,) = calls(log, "iam", "workload-identity-pools", "providers", "create-oidc")
    assert option(provider, "--attribute-condition") == f"assertion.repository == '{REPOSITORY}'"
    assert option(provider, "--issuer-uri") == "https://token.actions.githubusercontent.com"
    assert option(provider, "--attribute-mapping") == (
        "^;^google.subject=assertion.sub;attribute.can_push=(assertion.ref in ['refs/heads/develop',"
        " 'refs/heads/main'] || assertion.ref.startsWith('refs/tags/v')) ? 'yes' : 'no'"
    )
    pool = "iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/github-flask-service"
    members = {
        option(args, "--member"): args[3]
        for args in calls(log, "iam", "service-accounts", "add-iam-policy-binding")
        if option(args, "--role") == "roles/iam.workloadIdentityUser"
    }
    account = "{}@proj.iam.gserviceaccount.com".format
    assert members == {
        f"principalSet://{pool}/attribute.can_push/yes": account("flask-service-push"),
        f"principal://{pool}/subject/repo:{REPOSITORY}:ref:refs/heads/develop": account("flask-service-read"),
        f"principal://{pool}/subject/repo:{REPOSITORY}:ref:refs/heads/main": account("flask-service-read"),
        f"principal://{pool}/subject/repo:{REPOSITORY}:environment:staging": account("flask-service-staging"),
        f"principal://{pool}/subject/repo:{REPOSITORY}:environment:production": account("flask-service-production"),
    }
    roles = {
        (option(a, "--role"), option(a, "--member"))
        for a in calls(log, "artifacts", "repositories", "add-iam-policy-binding")
    }
    assert roles == {
        ("roles/artifactregistry.writer", f"serviceAccount:{account('flask-service-push')}"),
        ("roles/artifactregistry.reader", f"serviceAccount:{account('flask-service-read')}"),
    }
    secrets = [args[2] for args in calls(log, "secrets", "create")]
    assert secrets == ["flask-service-secret-key", *(["flask-service-sentry-dsn"] if sentry else [])]
    # The names deploy.yml passes to Cloud Run are the ones made here.
    assert all(f"={name}:latest" in project.text(".github/workflows/deploy.yml") for name in secrets)

    printed = {name for name, _ in printed_variables(result.stdout)}
    assert workflow_variables(project) - printed == {"APP_URL"}


def test_azure_bootstrap_trusts_exactly_this_repository(cookies, tmp_path):
    project = bake(cookies, deploy_target="azure-webapp", container_registry="acr", error_tracking="sentry")
    log, result = run_bootstrap(
        project,
        tmp_path,
        "az",
        "scripts/bootstrap_azure.sh",
        AZ,
        AZURE_RESOURCE_GROUP="rg",
        AZURE_LOCATION="westeurope",
        SENTRY_DSN="https://k@s.example/1",
    )
    log = [args[1:] for args in log]  # without --only-show-errors

    credentials = {}
    for args in calls(log, "ad", "app", "federated-credential", "create"):
        parameters = json.loads(option(args, "--parameters"))
        assert parameters["issuer"] == "https://token.actions.githubusercontent.com"
        assert parameters["audiences"] == ["api://AzureADTokenExchange"]
        credentials.setdefault(option(args, "--id"), []).append(parameters["subject"])
    assert credentials == {
        "client-push": [f"repo:{REPOSITORY}:ref:refs/heads/develop", f"repo:{REPOSITORY}:ref:refs/heads/main"],
        "client-read": [f"repo:{REPOSITORY}:ref:refs/heads/develop", f"repo:{REPOSITORY}:ref:refs/heads/main"],
        "client-staging": [f"repo:{REPOSITORY}:environment:staging"],
        "client-production": [f"repo:{REPOSITORY}:environment:production"],
    }
    grants = {
        (option(a, "--assignee"), option(a, "--role"), option(a, "--scope"))
        for a in calls(log, "role", "assignment", "create")
    }
    assert grants == {
        ("client-push", "AcrPush", "/subscriptions/sub-1/registries/flaskservice"),
        ("client-read", "AcrPull", "/subscriptions/sub-1/registries/flaskservice"),
        ("client-staging", "Website Contributor", "/subscriptions/sub-1/sites/flask-service-staging"),
    }
    # The staging site exists: both its slots get every secret setting; production's needs a person.
    settings = calls(log, "webapp", "config", "appsettings", "set")
    assert [("--slot" in a and option(a, "--slot")) for a in settings] == [False, "staging"]
    for args in settings:
        assert option(args, "--name") == "flask-service-staging"
        names = [s.split("=")[0] for s in args[args.index("--settings") + 1 : args.index("--output")]]
        assert names == ["WEBSITES_PORT", "SECRET_KEY", "SENTRY_DSN"]
    assert "needs a person: the web app flask-service-production" in result.stderr

    printed = {name for name, _ in printed_variables(result.stdout)}
    assert workflow_variables(project) - printed == {"APP_URL"}
