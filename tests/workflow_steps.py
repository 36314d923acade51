"""What the workflow tests share: the answers' deploy shapes, and a generated workflow's own
steps, found by name or id and run as GitHub's runner runs them, with stand-in commands on PATH."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from helpers import CHOICES, DEFAULTS, valid
from validators import BIN

TARGETS = [target for target in CHOICES["deploy_target"] if target != "none"]
NOTIFY = CHOICES["notify"]
SHAPES = {
    "default": DEFAULTS["environments"],
    "single": "production:main",
    "four-environment-chain": "dev:main -> qa -> staging -> production",
}
# Every allowed deploy target x registry pair; `notify` and the environment shape take each
# of their values in turn, so each target meets every shape and every notify.
PAIRS = [
    {"deploy_target": target, "container_registry": registry}
    for target in CHOICES["deploy_target"]
    for registry in CHOICES["container_registry"]
    if valid({"deploy_target": target, "container_registry": registry})
]
for index, pair in enumerate(PAIRS):
    pair["notify"] = NOTIFY[index % len(NOTIFY)]
    pair["environments"] = list(SHAPES.values())[(index + index // 3) % len(SHAPES)]


def pair_id(pair: dict) -> str:
    shape = next(name for name, text in SHAPES.items() if text == pair["environments"])
    return "-".join([pair["deploy_target"], pair["container_registry"], pair["notify"], shape])


IMAGE = "ghcr.io/your-org/flask-service"
DIGEST = "sha256:" + "0123456789abcdef" * 4
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def step(project, workflow: str, job: str, **match) -> dict:
    """The one step of `job` whose fields equal `match` (e.g. id="render")."""
    steps = [
        s for s in project.yaml(f".github/workflows/{workflow}")["jobs"][job]["steps"]
        if all(s.get(key) == value for key, value in match.items())
    ]
    assert len(steps) == 1, f"{workflow} {job}: {len(steps)} steps match {match}"
    return steps[0]


def run_step(project, script: str, env: dict, tmp_path: Path, check=True) -> tuple[subprocess.CompletedProcess, dict]:
    """Run a step's script as GitHub's runner does (bash -eo pipefail); return it and its outputs."""
    (tmp_path / "runner").mkdir(exist_ok=True)
    output = tmp_path / "runner" / "output"
    output.write_text("")
    script_file = tmp_path / "runner" / "step.sh"
    script_file.write_text(script)
    environment = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp_path / "runner"),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_ENV": str(tmp_path / "runner" / "env"),
        **env,
    }
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
        cwd=project.path, env=environment, capture_output=True, text=True, timeout=120,
    )
    if check:
        assert result.returncode == 0, f"step failed:\n{result.stdout}\n{result.stderr}"
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return result, outputs


def deploy_job_env(project) -> dict:
    """deploy.yml's job environment, with the inputs a caller passes."""
    env = project.yaml(".github/workflows/deploy.yml")["jobs"]["deploy"]["env"]
    inputs = {"ENVIRONMENT": None, "IMAGE": IMAGE, "DIGEST": DIGEST, "COMMIT": COMMIT}
    return {name: inputs.get(name, value) for name, value in env.items()}


def fake_commands(directory: Path, scripts: dict[str, str]) -> Path:
    """Write each stand-in command (name -> script) into `directory`, executable; return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in scripts.items():
        (directory / name).write_text(text)
        (directory / name).chmod(0o755)
    return directory


# A deploy host for deploy/ssh-compose/deploy.sh: ssh and scp act on a local folder, docker logs.
FAKE_SSH = """#!/usr/bin/env bash
# A stand-in host: logs the options, then runs the remote command here.
printf '%s\\n' "$*" >> "$FAKE_LOG"
while [ $# -gt 1 ]; do case "$1" in -o|-i) shift 2 ;; *) shift ;; esac; done
exec bash -c "$1"
"""
FAKE_SCP = """#!/usr/bin/env bash
printf 'scp %s\\n' "$*" >> "$FAKE_LOG"
eval "target=\\${$#}"
cp "${@: -2:1}" "${target#*:}"
"""
FAKE_DOCKER = """#!/usr/bin/env bash
# docker compose --env-file FILE pull|up ...: log the image it would run; FAIL_UP=1 fails `up`.
image=$(sed -n 's/^IMAGE=//p' "$3")
printf 'docker %s %s\\n' "$4" "$image" >> "$FAKE_LOG"
[ "$4" = up ] && [ "${FAIL_UP:-}" = 1 ] && exit 1
exit 0
"""


def ssh_host(tmp_path: Path) -> tuple[Path, dict]:
    """The stand-in host's folder, and the environment deploy.sh runs with to reach it."""
    fakes = fake_commands(tmp_path / "bin", {"ssh": FAKE_SSH, "scp": FAKE_SCP, "docker": FAKE_DOCKER})
    host = tmp_path / "host"
    host.mkdir()
    env = {
        **os.environ, "PATH": f"{fakes}{os.pathsep}{os.environ['PATH']}", "FAKE_LOG": str(tmp_path / "log"),
        "SSH_HOST": "203.0.113.10", "SSH_USER": "deploy", "DEPLOY_PATH": str(host),
        "RUNNER_TEMP": str(tmp_path),
    }
    return host, env
