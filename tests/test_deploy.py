"""The deploy targets of baked projects: manifests and task definitions the platforms accept, and
the deploy, rollback, smoke-test, notify and metrics scripts run for real. The deploy workflows'
shape and checks are test_deploy_workflows.py's; GitHub's set-up is test_setup_github.py's.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from helpers import answers, bake, run
from validators import tool
from workflow_steps import COMMIT, DIGEST, IMAGE, SHAPES, deploy_job_env, run_step, ssh_host, step


class Webhook(BaseHTTPRequestHandler):
    def do_POST(self):
        self.server.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        """Quiet."""


@pytest.mark.parametrize("notify", ["slack", "webhook"])
def test_the_team_hears_of_success_failure_and_rollback(cookies, tmp_path, notify):
    project = bake(cookies, notify=notify, environments="staging:develop, production:main")
    script = step(project, "deploy.yml", "deploy", name="Tell the team")["run"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    run_url = "https://github.com/your-org/flask-service/actions/runs/42"
    try:
        for status, rollback in [
            ("success", ""),
            ("failure", "success"),
            ("failure", "failure"),
            ("failure", "skipped"),
        ]:
            env = {
                **deploy_job_env(project),
                "ENVIRONMENT": "production",
                "WEBHOOK_URL": f"http://127.0.0.1:{server.server_port}/hook",
                "STATUS": status,
                "ROLLBACK": rollback,
                "REPOSITORY": "your-org/flask-service",
                "RUN_URL": run_url,
            }
            run_step(project, script, env, tmp_path)
        run_step(project, script, {**env, "WEBHOOK_URL": ""}, tmp_path)  # unset: no message, no failure
    finally:
        server.shutdown()
        server.server_close()
    texts = [message["text"] for message in server.received]
    assert [text.split()[0] for text in texts] == ["[success]", "[rolled-back]", "[failure]", "[failure]"]
    assert "failed and was rolled back in production" in texts[1]
    assert "and so did the rollback" in texts[2]
    for text in texts:
        assert f"your-org/flask-service {COMMIT[:7]} " in text and DIGEST[:19] in text and text.endswith(run_url)
    if notify == "webhook":
        assert server.received[1] | {"text": ""} == {
            "event": "deploy",
            "status": "rolled-back",
            "environment": "production",
            "repository": "your-org/flask-service",
            "commit": COMMIT,
            "image": IMAGE,
            "digest": DIGEST,
            "run_url": run_url,
            "text": "",
        }
    else:
        assert all(set(message) == {"text"} for message in server.received)


# --- kubernetes: the manifests as the pipeline renders them


def drain_seconds(project) -> float:
    return float(re.search(r'SHUTDOWN_DRAIN_SECONDS", "([\d.]+)"', project.text("gunicorn.conf.py")).group(1))


def graceful_timeout(project) -> int:
    return int(re.search(r'GUNICORN_GRACEFUL_TIMEOUT", "(\d+)"', project.text("gunicorn.conf.py")).group(1))


@pytest.mark.parametrize(
    "environments",
    [*SHAPES.values(), "QA_1:develop, Prod-EU:main"],
    ids=[*SHAPES, "odd-names"],
)
def test_kubernetes_release_renders_and_validates(cookies, tmp_path, environments):
    import kubernetes_validate

    project = bake(cookies, deploy_target="kubernetes", environments=environments)
    script = step(project, "deploy.yml", "deploy", id="render")["run"]
    for environment in answers.check_environments(environments):
        _, outputs = run_step(project, script, {**deploy_job_env(project), "ENVIRONMENT": environment.name}, tmp_path)
        assert outputs["namespace"] == environment.dns_label
        documents = list(yaml.safe_load_all((project.path / outputs["manifests"]).read_text()))
        for document in documents:
            for version in ("1.30.0", kubernetes_validate.latest_version()):
                kubernetes_validate.validate(document, version, strict=True)
            assert document["metadata"]["namespace"] == environment.dns_label
        kinds = {document["kind"]: document for document in documents}
        assert set(kinds) == {
            "Deployment",
            "Service",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
            "NetworkPolicy",
        }
        pod = kinds["Deployment"]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["image"] == f"{IMAGE}@{DIGEST}"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert set(container["resources"]) == {"requests", "limits"}
        # gunicorn drains (readiness fails, requests still served), then finishes in-flight ones.
        assert "lifecycle" not in container, "the drain is built in: a preStop pause only adds to it"
        assert pod["terminationGracePeriodSeconds"] > drain_seconds(project) + graceful_timeout(project)
        assert "replicas" not in kinds["Deployment"]["spec"], "the autoscaler owns the replica count"
        assert kinds["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == "flask-service"


# --- ECS: the task definition as the pipeline fills it in


def test_ecs_task_definition_is_a_valid_registration(cookies, tmp_path):
    import botocore.session
    from botocore.validate import ParamValidator

    project = bake(cookies, deploy_target="ecs", container_registry="ecr")
    fill = step(project, "deploy.yml", "deploy", id="environment")
    env = {
        **deploy_job_env(project),
        "ENVIRONMENT": "production",
        "EXECUTION_ROLE_ARN": "arn:aws:iam::111122223333:role/flask-service-execution",
        "SECRET_KEY_ARN": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:flask-service-key",
        "REGION": "eu-west-1",
    }
    assert set(fill["env"]) == {"EXECUTION_ROLE_ARN", "SECRET_KEY_ARN", "REGION"}
    _, outputs = run_step(project, fill["run"], env, tmp_path)
    task = json.loads(Path(outputs["task-definition"]).read_text())
    # What amazon-ecs-render-task-definition then does: the named container gets the image.
    render = step(project, "deploy.yml", "deploy", id="render")["with"]
    (container,) = [c for c in task["containerDefinitions"] if c["name"] == render["container-name"]]
    container["image"] = f"{IMAGE}@{DIGEST}"

    ecs = botocore.session.get_session().get_service_model("ecs")
    report = ParamValidator().validate(task, ecs.operation_model("RegisterTaskDefinition").input_shape)
    assert not report.has_errors(), report.generate_report()
    assert task["executionRoleArn"] == env["EXECUTION_ROLE_ARN"]
    assert container["secrets"] == [{"name": "SECRET_KEY", "valueFrom": env["SECRET_KEY_ARN"]}]
    assert container["logConfiguration"]["options"]["awslogs-region"] == "eu-west-1"
    assert container["readonlyRootFilesystem"] is True and container["user"] == "65532:65532"
    assert container["stopTimeout"] > graceful_timeout(project)


# --- ssh-compose: the compose file and deploy.sh against a stand-in host


def test_ssh_compose_file_follows_the_compose_spec(cookies):
    project = bake(cookies, deploy_target="ssh-compose")
    compose = "deploy/ssh-compose/compose.yaml"
    run([tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", compose], cwd=project.path)
    service = project.yaml(compose)["services"]["app"]
    assert service["image"].startswith("${IMAGE:?")
    assert service["read_only"] is True and service["cap_drop"] == ["ALL"]


def test_ssh_deploy_keeps_the_previous_release_and_rolls_back(cookies, tmp_path):
    project = bake(cookies, deploy_target="ssh-compose")
    host, env = ssh_host(tmp_path)
    log = tmp_path / "log"

    def deploy(*args, **extra):
        return subprocess.run(
            ["bash", "deploy/ssh-compose/deploy.sh", *args],
            cwd=project.path,
            env={**env, **extra},
            capture_output=True,
            text=True,
        )

    first, second = f"{IMAGE}@sha256:{'1' * 64}", f"{IMAGE}@sha256:{'2' * 64}"
    assert deploy("release", first).returncode == 1  # no app.env with SECRET_KEY yet
    (host / "app.env").write_text("SECRET_KEY=s3cret\n")
    assert deploy("rollback").returncode == 1, "nothing to roll back to on a new host"
    assert deploy("release", first).returncode == 0
    assert (host / "compose.yaml").read_text() == project.text("deploy/ssh-compose/compose.yaml")
    assert deploy("release", second).returncode == 0
    assert (host / "release.env").read_text() == f"IMAGE={second}\n"
    assert (host / "release.env.previous").read_text() == f"IMAGE={first}\n"
    failed = deploy("release", f"{IMAGE}@sha256:{'3' * 64}", FAIL_UP="1")
    assert failed.returncode != 0
    assert deploy("rollback").returncode == 0
    assert (host / "release.env").read_text() == f"IMAGE={second}\n", "back to what ran before"
    bad = deploy("release", f"{IMAGE}:latest")
    assert bad.returncode == 2 and "is not IMAGE@sha256:DIGEST" in bad.stderr

    lines = log.read_text().splitlines()
    assert [line for line in lines if line.startswith("docker")] == [
        f"docker pull {first}",
        f"docker up {first}",
        f"docker pull {second}",
        f"docker up {second}",
        f"docker pull {IMAGE}@sha256:{'3' * 64}",
        f"docker up {IMAGE}@sha256:{'3' * 64}",
        f"docker up {second}",
    ]
    ssh_calls = [line for line in lines if not line.startswith(("docker", "scp"))]
    assert ssh_calls and all(
        "StrictHostKeyChecking=yes" in line and "UserKnownHostsFile=" in line for line in ssh_calls
    )
    run([tool("shellcheck"), "deploy/ssh-compose/deploy.sh"], cwd=project.path)


# --- the smoke test against the service really running (the `service` fixture's project and
# environment, serving the project's own app)

RELEASE = {"GIT_COMMIT": COMMIT, "ACCESS_LOG": "0"}


def smoke(service, url: str, commit: str, wait="20"):
    return subprocess.run(
        [str(service.python), "scripts/smoke_test.py", url, "--commit", commit, "--wait", wait, "--interval", "0.5"],
        cwd=service.path,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.xdist_group("service")
def test_smoke_test_passes_on_the_running_release_and_fails_clearly(service):
    with service.serve(service.wsgi_app, ready=None, **RELEASE) as server:
        url = server.url
        passed = smoke(service, url, COMMIT)  # retries while gunicorn starts
        assert passed.returncode == 0, passed.stderr
        assert passed.stdout.startswith(f"smoke test passed: {url} is ready") and COMMIT in passed.stdout
        other = "feedfacefeedfacefeedfacefeedfacefeedface"
        wrong = smoke(service, url, other)
        assert wrong.returncode == 1
        assert wrong.stderr == (
            f"smoke test failed: {url}/version reports commit {COMMIT!r}, expected {other!r}:"
            " the release is not running\n"
        )


NOT_READY = """\
exec(open("gunicorn.conf.py").read())


def post_worker_init(worker):
    # A readiness check that fails, as a lost database would: /readyz answers 503.
    worker.wsgi.extensions["readiness"].add_check("database", lambda: False)
"""


@pytest.mark.slow
@pytest.mark.xdist_group("service")
def test_smoke_test_fails_clearly_while_not_ready(service, tmp_path):
    config = tmp_path / "not_ready.conf.py"
    config.write_text(NOT_READY)
    # Up, so the failure is /readyz's, not the port's.
    with service.serve(service.wsgi_app, config=str(config), ready="/healthz", **RELEASE) as server:
        url = server.url
        failed = smoke(service, url, COMMIT, wait="1")
        assert failed.returncode == 1
        assert re.fullmatch(
            rf"smoke test failed: {re.escape(url)}/readyz answered 503 \(failing: database\);"
            r" gave up after \d+ tries in 1 s\n",
            failed.stderr,
        ), failed.stderr


# --- DORA metrics: the generated script on its recorded API answers


class Recorded(BaseHTTPRequestHandler):
    def do_GET(self):
        answer = self.server.recording[f"GET {self.path}"]
        self.send_response(200)
        if answer["link"]:
            self.send_header("Link", f'<http://127.0.0.1:{self.server.server_port}{answer["link"]}>; rel="next"')
        self.end_headers()
        self.wfile.write(json.dumps(answer["body"]).encode())

    def log_message(self, *args):
        """Quiet."""


def test_dora_figures_equal_hand_computed_values(cookies, tmp_path):
    project = bake(cookies)
    recording = json.loads(project.text("tests/fixtures/github_api.json"))["interactions"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorded)
    server.recording = {answer["request"]: answer for answer in recording}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run(
            [
                sys.executable,
                "scripts/dora_metrics.py",
                "--repo",
                "acme/shop",
                "--until",
                "2026-11-26T12:00:00Z",
                "--environment",
                "staging",
                "--environment",
                "production",
                "--json",
                str(tmp_path / "m.json"),
                "--summary",
                str(tmp_path / "m.md"),
            ],
            cwd=project.path,
            env={"GITHUB_TOKEN": "t", "GITHUB_API_URL": f"http://127.0.0.1:{server.server_port}"},
        )
    finally:
        server.shutdown()
        server.server_close()
    figures = json.loads((tmp_path / "m.json").read_text())
    # By hand from the recording: 9 counted runs (7 green), 2650 s between them.
    assert figures["builds"] == pytest.approx(
        {"runs": 9, "succeeded": 7, "failed": 2, "success_rate": 7 / 9, "average_duration_seconds": 2650 / 9}
    )
    # production: 4 good deploys of 6 in 30 days; lead times 126, 65, 16, 65 min; restores
    # after 39 min and 18 h 3 min.
    assert figures["deployments"]["production"] == pytest.approx(
        {
            "deploys": 6,
            "succeeded": 4,
            "failed": 2,
            "per_day": 4 / 30,
            "lead_time_seconds": 65 * 60,
            "change_failure_rate": 1 / 3,
            "time_to_restore_seconds": (39 * 60 + 18 * 3600 + 3 * 60) / 2,
            "unrestored": 0,
        }
    )
    assert figures["deployments"]["staging"]["time_to_restore_seconds"] == 16 * 3600 + 21 * 60
    assert "| change failure rate | 33.3 % (1 of 3) | 33.3 % (2 of 6) | below 15 % |" in (tmp_path / "m.md").read_text()


# --- the answers' helpers the deploy files use


@pytest.mark.parametrize(
    ("name", "label"),
    [("production", "production"), ("QA_1", "qa-1"), ("Prod-EU", "prod-eu"), ("dev_", "dev")],
)
def test_environment_names_become_dns_labels(name, label):
    assert answers.Environment(name, branch="main").dns_label == label
