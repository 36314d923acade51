"""The generated image: linted for every Dockerfile shape, then built and run for real.

The image tests use docker where its daemon answers and podman otherwise; base images that
cannot be pulled get offline stand-ins (see container_engine.py).
"""

import json
import re
import secrets
import subprocess
import time
import urllib.request
import uuid

import pytest
from container_engine import base_images, engine, wait_for
from helpers import CHOICES, DEFAULTS, as_typed, bake, combination_id, pairwise, run

# Odd but valid text that lands in the image's labels.
ODD_DESCRIPTION = 'Says "hi": #1, ${{ secrets.X }} $HOME \\ \u2603'
ODD_AUTHOR = 'O\'Brien, "Pat" $USER'
# Debian trixie, whose Python is 3.13, is what offline stand-ins offer: the image's Python
# (the newest answered) must be 3.13 wherever the real base images cannot be pulled.
IMAGE_ANSWERS = {"python_versions": "3.12, 3.13"}
COMBINATIONS = [
    {"container_base": base, "package_manager": manager}
    for base in CHOICES["container_base"]
    for manager in CHOICES["package_manager"]
]
# Every pair of the answers that shape the Dockerfile.
DOCKERFILE_ROWS = pairwise(
    {
        "container_base": CHOICES["container_base"],
        "package_manager": CHOICES["package_manager"],
        "python_versions": [DEFAULTS["python_versions"], "3.13", "3.11, 3.12"],
        "description": [DEFAULTS["description"], ODD_DESCRIPTION],
    }
)


def dockerfile_instructions(text):
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in joined.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def healthcheck_command(dockerfile_text):
    (arguments,) = [args for name, args in dockerfile_instructions(dockerfile_text) if name == "HEALTHCHECK"]
    return json.loads(arguments.split(" CMD ", 1)[1])


def row_id(row):
    return combination_id({**row, "description": "odd" if row["description"] == ODD_DESCRIPTION else "plain"})


# --- hadolint and the files around the Dockerfile: cheap, no engine needed ---


def hadolint(project):
    """hadolint as the project runs it: from the project root, which holds .hadolint.yaml."""
    return subprocess.run(["hadolint", "Dockerfile"], cwd=project.path, capture_output=True, text=True)


@pytest.mark.parametrize("row", DOCKERFILE_ROWS, ids=[row_id(row) for row in DOCKERFILE_ROWS])
def test_hadolint_reports_nothing_and_every_ignore_says_why(cookies, row):
    project = bake(cookies, **as_typed(row))
    result = hadolint(project)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr
    lines = project.text("Dockerfile").splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore=" in line:
            assert lines[number - 1].startswith("# ") and "ignore" not in lines[number - 1], (
                f"the ignore on line {number + 1} has no reason above it"
            )


def test_hadolint_requires_a_healthcheck(cookies):
    project = bake(cookies)
    config = project.yaml(".hadolint.yaml")
    assert "DL3057" in config["override"]["error"]
    assert "ignored" not in config, "ignore rules inline, next to the reason"
    dockerfile = project.text("Dockerfile")
    without = re.sub(r"^HEALTHCHECK .*?\n(?=\S)", "", dockerfile, flags=re.M | re.S)
    assert not re.search("^HEALTHCHECK", without, flags=re.M)
    project["Dockerfile"].write_text(without)
    result = hadolint(project)
    assert result.returncode != 0 and "DL3057" in result.stdout, result.stdout


@pytest.mark.parametrize("row", COMBINATIONS, ids=combination_id)
def test_dockerignore_lets_in_only_what_the_dockerfile_copies(cookies, row):
    project = bake(cookies, **row)
    copied = set()
    for name, arguments in dockerfile_instructions(project.text("Dockerfile")):
        if name == "COPY" and "--from=" not in arguments:
            copied.update(source.rstrip("/") for source in arguments.split()[:-1])
    patterns = [line for line in project.text(".dockerignore").splitlines() if line and not line.startswith("#")]
    assert patterns[0] == "*", "everything is out unless let in"
    let_in = {pattern[1:].rstrip("/") for pattern in patterns if pattern.startswith("!")}
    assert let_in == copied


def test_compose_runs_the_image_as_built(cookies):
    project = bake(cookies)
    run(["check-jsonschema", "--builtin-schema", "vendor.compose-spec", "compose.yaml"], cwd=project.path)
    dockerfile = project.text("Dockerfile")
    service = project.yaml("compose.yaml")["services"]["web"]
    assert service["healthcheck"]["test"] == ["CMD", *healthcheck_command(dockerfile)]
    exposed = {args for name, args in dockerfile_instructions(dockerfile) if name == "EXPOSE"}
    assert {port.rsplit(":", 1)[1] for port in service["ports"]} == exposed
    build_args = {args.split("=")[0] for name, args in dockerfile_instructions(dockerfile) if name == "ARG"}
    assert set(service["build"]["args"]) <= build_args


def test_without_a_registry_the_image_still_runs_locally(cookies):
    project = bake(cookies, container_registry="none", deploy_target="none")
    for relative in ("Dockerfile", ".dockerignore", ".hadolint.yaml", "compose.yaml"):
        assert project.exists(relative), relative


# --- the image, built and run ---


def compose_run_flags(project):
    """The run options compose.yaml gives the service, so the test runs it as compose would."""
    service = project.yaml("compose.yaml")["services"]["web"]
    flags = ["--read-only"] if service.get("read_only") else []
    for key, flag in (("tmpfs", "--tmpfs"), ("cap_drop", "--cap-drop"), ("security_opt", "--security-opt")):
        for value in service.get(key, []):
            flags += [flag, value]
    return flags


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a local test URL
        return response.status, json.loads(response.read())


def error_lines(logs):
    """The service's JSON log lines at error level or above."""
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert lines, f"no JSON log lines in:\n{logs}"
    return [line for line in lines if line.get("level") in {"error", "critical"}]


@pytest.mark.container
@pytest.mark.sample(2)
@pytest.mark.parametrize("row", COMBINATIONS, ids=combination_id)
def test_image_builds_and_runs_healthy_as_non_root_and_stops_on_sigterm(cookies, row):
    project = bake(
        cookies, **as_typed({**row, **IMAGE_ANSWERS, "description": ODD_DESCRIPTION, "author_name": ODD_AUTHOR})
    )
    containers = engine()
    tag = f"localhost/flask-cicd-test-{combination_id(row)}:latest"
    commit, version = secrets.token_hex(20), "1.2.3"
    # podman's layer cache keeps ENV and LABEL values from an earlier build when only a build
    # argument changed (containers/buildah#5501): build without it, so the values are this build's.
    fresh = ["--layers=false"] if containers.name == "podman" else []
    containers.build(project.path, tag, {"GIT_COMMIT": commit, "VERSION": version}, *fresh)

    config = containers.inspect(tag)["Config"]
    user = config["User"].split(":")[0]
    assert user.isdigit() and int(user) != 0, f"the image runs as {config['User']!r}"
    labels = config["Labels"]
    assert labels["org.opencontainers.image.revision"] == commit
    assert labels["org.opencontainers.image.version"] == version
    assert labels["org.opencontainers.image.description"] == ODD_DESCRIPTION
    assert labels["org.opencontainers.image.authors"] == f"{ODD_AUTHOR} <{DEFAULTS['author_email']}>"
    runtime_base = base_images(project["Dockerfile"])[-1]
    assert labels["org.opencontainers.image.base.name"].endswith(runtime_base)

    name = f"flask-cicd-test-{uuid.uuid4().hex[:12]}"
    timing = ["--health-interval", "1s"] if containers.name == "docker" else []
    try:
        containers(
            "run", "--detach", "--name", name, "--publish", "127.0.0.1::8000",
            "--env", f"SECRET_KEY={secrets.token_hex(32)}", *compose_run_flags(project), *timing, tag,
        )  # fmt: skip
        port = containers("port", name, "8000").stdout.split()[0].rsplit(":", 1)[1]
        base_url = f"http://127.0.0.1:{port}"
        assert wait_for(lambda: get_json(f"{base_url}/healthz"), 30, "/healthz answering") == (200, {"status": "ok"})
        assert get_json(f"{base_url}/version") == (
            200,
            {"name": project.context["project_slug"], "version": version, "commit": commit},
        )

        probe = "import json, os, importlib.util as u; print(json.dumps([os.getuid(), sorted(os.listdir('/app')),"
        probe += " os.path.exists('/build'), u.find_spec('pip') is not None]))"
        uid, app_files, builder_files, pip = json.loads(containers("exec", name, "python", "-c", probe).stdout)
        assert uid != 0
        assert app_files == ["gunicorn.conf.py"], "the image holds only what the service runs"
        assert not builder_files and not pip

        if containers.name == "podman":  # podman's periodic checks need systemd: run one now
            containers("healthcheck", "run", name)
        health = lambda: containers.inspect(name)["State"]["Health"]["Status"] == "healthy"  # noqa: E731
        wait_for(health, 60, "the health check reporting healthy", interval=1)

        started = time.monotonic()
        containers("stop", "--time", "30", name)  # SIGTERM, then SIGKILL after 30 s
        stopped_in = time.monotonic() - started
        state = containers.inspect(name)["State"]
        assert state["ExitCode"] == 0, "gunicorn exits 0 after a graceful shutdown"
        assert stopped_in < 10, f"SIGTERM took {stopped_in:.1f}s to stop the container"
        logs = containers("logs", name)
        logs = logs.stdout + logs.stderr
        assert "Handling signal: term" in logs and "Shutting down: Master" in logs
        assert error_lines(logs) == []
    finally:
        containers.remove(name)
        containers.remove_image(tag)
