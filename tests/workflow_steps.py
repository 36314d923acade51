"""What the workflow tests share: the answers' deploy shapes; a generated workflow's own steps,
found by name or id and run as GitHub's runner runs them, with stand-in commands on PATH (a deploy
host, `gh attestation verify` on recorded provenance); the variables the bootstrap scripts print
for the workflows."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
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
REPOSITORY = "your-org/flask-service"


def step(project, workflow: str, job: str, **match) -> dict:
    """The one step of `job` whose fields equal `match` (e.g. id="render")."""
    steps = [
        s
        for s in project.yaml(f".github/workflows/{workflow}")["jobs"][job]["steps"]
        if all(s.get(key) == value for key, value in match.items())
    ]
    assert len(steps) == 1, f"{workflow} {job}: {len(steps)} steps match {match}"
    return steps[0]


def steps_using(job: dict, action: str) -> list[dict]:
    """The steps of `job` that use `action` (owner/repo[/path]), at whatever pin."""
    return [step for step in job["steps"] if step.get("uses", "").split("@")[0] == action]


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
        cwd=project.path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
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
        **os.environ,
        "PATH": f"{fakes}{os.pathsep}{os.environ['PATH']}",
        "FAKE_LOG": str(tmp_path / "log"),
        "SSH_HOST": "203.0.113.10",
        "SSH_USER": "deploy",
        "DEPLOY_PATH": str(host),
        "RUNNER_TEMP": str(tmp_path),
    }
    return host, env


# --- provenance: recorded attestations, and the step that verifies them

# A stand-in for `gh attestation verify`, applying gh's own policy to recorded attestations: the
# certificate must name the --repo, the --signer-workflow and, with --deny-self-hosted-runners, a
# GitHub-hosted runner. It prints what passes as gh's --format json does, or fails as gh does.
FAKE_GH_ATTESTATION = """#!{python}
import json, os, sys

args = sys.argv[1:]
assert args[:2] == ["attestation", "verify"] and args[args.index("--format") + 1] == "json", args
image = args[2].removeprefix("oci://")
repo = args[args.index("--repo") + 1]
workflow = "https://github.com/" + args[args.index("--signer-workflow") + 1] + "@"
recorded = json.load(open(os.environ["ATTESTATIONS"])).get(image.split("@")[1], [])
passing = [
    {{"verificationResult": {{"signature": {{"certificate": certificate}}}}}}
    for certificate in recorded
    if certificate["sourceRepositoryURI"] == "https://github.com/" + repo
    and certificate["buildSignerURI"].startswith(workflow)
    and ("--deny-self-hosted-runners" not in args or certificate["runnerEnvironment"] == "github-hosted")
]
if not passing:
    sys.exit("Error: verifying with issuer \\"sigstore.dev\\": no matching attestations found")
print(json.dumps(passing))
"""


def certificate(
    ref="refs/heads/main", commit=COMMIT, repo=REPOSITORY, workflow="ci.yml", trigger="push", runner="github-hosted"
) -> dict:
    """The fields of a Fulcio certificate that gh's JSON output carries and the step reads."""
    signer = f"https://github.com/{repo}/.github/workflows/{workflow}@{ref}"
    return {
        "certificateIssuer": "CN=sigstore-intermediate,O=sigstore.dev",
        "subjectAlternativeName": signer,
        "buildSignerURI": signer,
        "issuer": "https://token.actions.githubusercontent.com",
        "buildTrigger": trigger,
        "githubWorkflowTrigger": trigger,
        "sourceRepositoryURI": f"https://github.com/{repo}",
        "sourceRepositoryRef": ref,
        "sourceRepositoryDigest": commit,
        "runnerEnvironment": runner,
    }


def verify_provenance(project, tmp_path, workflow, job, certificates, commit, **env):
    """Run the workflow's "Verify the image's provenance" step against `certificates` for DIGEST."""
    verify = step(project, workflow, job, name="Verify the image's provenance")
    fakes = fake_commands(tmp_path / "bin", {"gh": FAKE_GH_ATTESTATION.format(python=sys.executable)})
    (tmp_path / "attestations.json").write_text(json.dumps({DIGEST: certificates}))
    step_env = {name: value for name, value in verify["env"].items() if "${{" not in value}
    return run_step(
        project,
        verify["run"],
        {
            **step_env,
            "PATH": f"{fakes}{os.pathsep}{os.environ['PATH']}",
            "ATTESTATIONS": str(tmp_path / "attestations.json"),
            "REPOSITORY": REPOSITORY,
            "IMAGE": IMAGE,
            "DIGEST": DIGEST,
            "COMMIT": commit,
            **env,
        },
        tmp_path,
        check=False,
    )[0]


def printed_variables(output: str) -> dict[tuple[str, str | None], str]:
    """The `gh variable set` lines a bootstrap script prints: (name, environment or None) -> value."""
    found = {}
    for match in re.finditer(r"^gh variable set (\w+) --repo (\S+)(?: --env (\S+))? --body '([^']*)'$", output, re.M):
        assert match[2] == REPOSITORY
        found[(match[1], match[3])] = match[4]
    return found
