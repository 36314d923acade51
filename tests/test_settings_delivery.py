"""Every setting the service needs in production reaches it on every deploy target.

SETTINGS in the baked config.py is the one list. For every deploy_target x error_tracking x
metrics, each setting is either documented as optional (its default is the production value)
or a secret that the target delivers, checked with the target's own mechanism: the Kubernetes
manifests as kubectl renders them read by the app's own load_config, Cloud Run's `secrets`,
ECS's task definition as deploy.yml's step makes it with jq, the Azure slot check run against
a fake `az`, and the ssh-compose host check run through deploy.sh."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess

import pytest
import yaml
from helpers import CHOICES, bake, run, valid
from validators import tool
from workflow_steps import IMAGE, deploy_job_env, run_step, ssh_host, step

COMBINATIONS = [
    {"deploy_target": target, "error_tracking": tracking, "metrics": metrics}
    for target, tracking, metrics in itertools.product(
        CHOICES["deploy_target"], CHOICES["error_tracking"], CHOICES["metrics"]
    )
]
for row in COMBINATIONS:  # the first registry each target takes
    row["container_registry"] = next(
        registry for registry in CHOICES["container_registry"] if valid({**row, "container_registry": registry})
    )


def baked_config(project):
    """The baked project's config module (stdlib only), imported from its file."""
    return project.module(f"src/{project.context['package_name']}/config.py")


def readme_rows(project) -> dict[str, list[str]]:
    """The README's settings table: name -> its cells."""
    section = project.text("README.md").split("## Configure it", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if match := re.match(r"^\| `([A-Z_0-9]+)` \| (.*) \|$", line):
            rows[match[1]] = [cell.strip() for cell in match[2].split(" | ")]
    return rows


@pytest.mark.parametrize("row", COMBINATIONS, ids=["-".join(row.values()) for row in COMBINATIONS])
def test_every_production_setting_is_delivered_or_optional(cookies, tmp_path, row):
    project = bake(cookies, **row)
    config = baked_config(project)
    secrets = [setting.name for setting in config.SETTINGS if setting.secret]
    assert "SECRET_KEY" in secrets
    assert ("SENTRY_DSN" in secrets) == (row["error_tracking"] == "sentry")

    # The README documents each setting, and says which production must be given.
    rows = readme_rows(project)
    assert list(rows) == [setting.name for setting in config.SETTINGS]
    for setting in config.SETTINGS:
        production = rows[setting.name][-1]
        assert production.startswith("**secret**") if setting.secret else production == "optional", setting.name
    # A setting without a usable production default must be a secret the target delivers.
    with pytest.raises(config.ConfigError):
        config.load_config({})
    values = {name: f"value-of-{name}" for name in secrets}
    assert config.load_config(values)["SECRET_KEY"] == values["SECRET_KEY"]

    delivered = DELIVERY[row["deploy_target"]](project, tmp_path, config, values)
    assert delivered == set(secrets), f"{row['deploy_target']} delivers {delivered}, the app needs {secrets}"


# --- each target's own way of delivering the secret settings; each returns the names delivered


def kubernetes(project, tmp_path, config, values) -> set[str]:
    """kubectl's rendering mounts the Secret where SECRETS_DIR points; the README's `kubectl
    create secret` gives it every key; load_config reads them from there."""
    overlay = next((project.path / "deploy/kubernetes/overlays").iterdir())
    manifests = list(yaml_documents(run([tool("kubectl"), "kustomize", str(overlay)], project.path).stdout))
    pod = next(m for m in manifests if m["kind"] == "Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert not any("valueFrom" in item for item in container["env"]), "secrets never as environment variables"
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == env["SECRETS_DIR"])
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["secret"]["secretName"] == project.context["project_slug"] and mount["readOnly"]
    command = re.search(r"create secret generic \S+((?: --from-literal=\w+=\.\.\.)+)", project.text("README.md"))
    keys = re.findall(r"--from-literal=(\w+)=", command[1])
    # The pod's view: one file per key of the Secret, in the mounted folder.
    folder = tmp_path / "secret-volume"
    folder.mkdir()
    for key in keys:
        (folder / key).write_text(values.get(key, "x"))
    loaded = config.load_config({"SECRETS_DIR": str(folder)})
    return {name for name in values if loaded.get(name) == values[name]}


def cloud_run(project, tmp_path, config, values) -> set[str]:
    deploy = step(project, "deploy.yml", "deploy", id="deploy")
    lines = deploy["with"]["secrets"].splitlines()
    slug = project.context["project_slug"]
    delivered = set()
    for line in lines:
        name, secret = line.split("=", 1)
        assert secret == f"{slug}-{name.lower().replace('_', '-')}:latest"
        delivered.add(name)
    return delivered


def ecs(project, tmp_path, config, values) -> set[str]:
    """deploy.yml's own jq step, on a task definition the team gave a secret of its own."""
    definition = json.loads(project.text("deploy/ecs/task-definition.json"))
    own = {"name": "PAYMENTS_TOKEN", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/payments"}
    stale = {"name": "SECRET_KEY", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/old"}
    definition["containerDefinitions"][0]["secrets"] = [own, stale]
    (project.path / "deploy/ecs/task-definition.json").write_text(json.dumps(definition))
    fill = step(project, "deploy.yml", "deploy", name="Fill in the environment")
    arns = {f"{name}_ARN": f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{name}" for name in values}
    env = {
        **deploy_job_env(project),
        "ENVIRONMENT": "production",
        "REGION": "eu-west-1",
        "EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/exec",
        **arns,
    }
    assert set(fill["env"]) == {"EXECUTION_ROLE_ARN", "REGION", *arns}
    _, outputs = run_step(project, fill["run"], env, tmp_path)
    secrets = json.loads(open(outputs["task-definition"]).read())["containerDefinitions"][0]["secrets"]
    assert own in secrets, "the task definition's own secrets survive"
    assert [s["valueFrom"] for s in secrets if s["name"] == "SECRET_KEY"] == [arns["SECRET_KEY_ARN"]]
    # A secret without its variable stops the deploy before anything is registered.
    missing, _ = run_step(project, fill["run"], {**env, "SECRET_KEY_ARN": ""}, tmp_path, check=False)
    assert missing.returncode != 0 and "ECS_SECRET_KEY_ARN" in missing.stdout
    return {s["name"] for s in secrets if s["valueFrom"] == arns.get(f"{s['name']}_ARN")}


FAKE_AZ = """#!/usr/bin/env bash
# az webapp config appsettings list ...: the slot's setting names, from $APP_SETTINGS.
printf '%s\\n' "$*" >> "$FAKE_LOG"
tr ' ' '\\n' <<<"$APP_SETTINGS"
"""


def azure_webapp(project, tmp_path, config, values) -> set[str]:
    check = step(project, "deploy.yml", "deploy", name="Check the secret settings of the slot")
    fake = tmp_path / "bin" / "az"
    fake.parent.mkdir()
    fake.write_text(FAKE_AZ)
    fake.chmod(0o755)
    env = {
        "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}",
        "FAKE_LOG": str(tmp_path / "az.log"),
        "APP_NAME": "app",
        "RESOURCE_GROUP": "rg",
        "ENVIRONMENT": "production",
    }
    delivered = set()
    for name in values:  # each one missing fails the check, naming it
        present = " ".join(["WEBSITES_PORT", *(other for other in values if other != name)])
        result, _ = run_step(project, check["run"], {**env, "APP_SETTINGS": present}, tmp_path, check=False)
        if result.returncode != 0 and f"set the app setting {name} " in result.stdout:
            delivered.add(name)
    run_step(project, check["run"], {**env, "APP_SETTINGS": " ".join(["WEBSITES_PORT", *values])}, tmp_path)
    assert "--slot staging" in (tmp_path / "az.log").read_text()
    return delivered


def ssh_compose(project, tmp_path, config, values) -> set[str]:
    """deploy.sh on a stand-in host refuses an app.env without any one secret."""
    host, env = ssh_host(tmp_path)

    def release(app_env: dict) -> subprocess.CompletedProcess:
        (host / "app.env").write_text("".join(f"{k}={v}\n" for k, v in app_env.items()))
        return subprocess.run(
            ["bash", "deploy/ssh-compose/deploy.sh", "release", f"{IMAGE}@sha256:{'1' * 64}"],
            cwd=project.path,
            env=env,
            capture_output=True,
            text=True,
        )

    delivered = {
        name for name in values if f"must set {name}=" in release({k: v for k, v in values.items() if k != name}).stderr
    }
    assert release(values).returncode == 0
    return delivered


def no_target(project, tmp_path, config, values) -> set[str]:
    """No deploy target: the README tells where secrets come from instead."""
    for name in values:
        assert "**secret**: your platform's secret store" in readme_rows(project)[name][-1]
    return set(values)


DELIVERY = {
    "kubernetes": kubernetes,
    "cloud-run": cloud_run,
    "ecs": ecs,
    "azure-webapp": azure_webapp,
    "ssh-compose": ssh_compose,
    "none": no_target,
}


def yaml_documents(text: str):
    return (document for document in yaml.safe_load_all(text) if document)
