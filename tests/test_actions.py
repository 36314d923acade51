"""The actions the generated workflows use, checked against their own action.yml at the pinned
commit (tests/data/action-metadata.json, from scripts/action_metadata.py): every `with:` key is a
declared input, every required input without a default is given, every `steps.<id>.outputs.<name>`
read is a declared output (or, for a `run:` step, one its script writes); the same for the
project's own actions (`$/.github/actions/<name>`, against the baked action.yml, whose own steps are
checked in turn) and the calls of its reusable workflows. And every tool an action downloads at run
time is pinned."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from helpers import ROOT, bake
from workflow_steps import PAIRS, pair_id

from flask_cicd import pins

METADATA = json.loads((ROOT / "tests" / "data" / "action-metadata.json").read_text("utf-8"))
OUTPUT_READ = re.compile(r"steps\.([\w-]+)\.outputs\.([\w-]+)")
# Beyond every target x registry: the answers that change which actions run, and how.
ROWS = [
    *PAIRS,
    {"package_manager": "uv", "dependency_audit": "safety", "runner": "self-hosted, linux"},
    {"codecov": "no", "dependency_audit": "none", "environments": "staging:release/next, production:main"},
]
IDS = [pair_id(row) for row in PAIRS] + ["uv-safety-self-hosted", "no-codecov-release-branch"]


def action_of(step) -> str | None:
    """'owner/repo[/path]' of a step's pinned action; None for a run step or the project's own action."""
    uses = step.get("uses", "")
    return uses.split("@")[0] if uses and not uses.startswith(("$/", "./")) else None


def own_actions(project) -> dict[str, dict]:
    """The project's own actions, by the `uses` that names them, as metadata of METADATA's shape,
    and each one's own steps (a composite action's `runs`), to be checked like a job's."""
    found = {}
    for path in sorted((project.path / ".github" / "actions").glob("*/action.yml")):
        action = yaml.safe_load(path.read_text("utf-8"))
        inputs = {
            key: {"required": bool(spec.get("required")), "default": "default" in spec}
            for key, spec in (action.get("inputs") or {}).items()
        }
        folder = path.parent.relative_to(project.path).as_posix()
        for prefix in ("$/", "./"):
            outputs = sorted(action.get("outputs") or {})
            found[prefix + folder] = {"inputs": inputs, "outputs": outputs, "runs": action["runs"]}
    return found


def written_outputs(script: str) -> set[str]:
    """The outputs a run step writes: `echo "name=..." >> "$GITHUB_OUTPUT"`, alone or in a { } group."""
    to_output = r'>>\s*"\$GITHUB_OUTPUT"'
    lines = re.findall(rf'^\s*echo "([\w-]+)=.*{to_output}', script, re.MULTILINE)
    for group in re.findall(rf"\{{\n(.*?)\n\s*\}} {to_output}", script, re.DOTALL):
        lines += re.findall(r'^\s*echo "([\w-]+)=', group, re.MULTILINE)
    return set(lines)


def problems_of(workflow: dict, name: str, own: dict[str, dict] | None = None) -> list[str]:
    """What in one workflow disagrees with its actions' metadata (`own`: the project's own actions)."""
    problems = []
    for job_id, job in workflow["jobs"].items():
        where = f"{name} {job_id}"
        declared: dict[str, set[str] | None] = {}
        for step in job.get("steps", []):
            action = action_of(step)
            if action is None and "uses" in step:  # the project's own action
                meta = (own or {}).get(step["uses"])
                if meta is None:
                    problems.append(f"{where}: no action.yml at {step['uses']}")
                    continue
                problems += inputs_problems(where, step["uses"], meta, step)
                if "id" in step:
                    declared[step["id"]] = set(meta["outputs"])
                continue
            if action is None:
                if "id" in step:
                    declared[step["id"]] = written_outputs(step.get("run", ""))
                continue
            if action not in METADATA:
                problems.append(f"{where}: no metadata for {action}; add it with scripts/action_metadata.py")
                continue
            meta = METADATA[action]
            pinned = step["uses"].split("@")[1].split()[0]
            if meta["sha"] != pinned:
                problems.append(f"{where}: {action}'s metadata is for {meta['sha'][:7]}, the step pins {pinned[:7]}")
            problems += inputs_problems(where, action, meta, step)
            if "id" in step:
                declared[step["id"]] = set(meta["outputs"])
        for step_id, output in OUTPUT_READ.findall(yaml.safe_dump(job)):
            if step_id not in declared:
                problems.append(f"{where}: reads steps.{step_id}, a step it does not have")
            elif output not in declared[step_id]:
                problems.append(f"{where}: steps.{step_id} has no output {output!r}")
    return problems


def inputs_problems(where: str, action: str, meta: dict, step: dict) -> list[str]:
    """A step's `with:` keys against its action's inputs: none unknown, every required one given."""
    given = set(step.get("with", {}))
    problems = [f"{where}: {action} has no input {key!r}" for key in sorted(given - set(meta["inputs"]))]
    return problems + [
        f"{where}: {action} needs input {key!r}"
        for key, spec in sorted(meta["inputs"].items())
        if spec["required"] and not spec["default"] and key not in given
    ]


def project_problems(project) -> list[str]:
    """Every workflow of a baked project, and its own actions' steps, against the metadata."""
    own = own_actions(project)
    problems = []
    for uses, meta in own.items():
        if uses.startswith("$/"):
            problems += problems_of({"jobs": {"runs": meta["runs"]}}, f"{uses[2:]}/action.yml")
    for path in sorted((project.path / ".github" / "workflows").glob("*.yml")):
        workflow = yaml.safe_load(path.read_text("utf-8"))
        problems += problems_of(workflow, path.name, own) + call_problems(project, workflow, path.name)
    return problems


def call_problems(project, workflow: dict, name: str) -> list[str]:
    """Calls of the reusable workflows (deploy.yml, audit.yml): every input and secret given is one
    it declares, the required ones given."""
    problems = []
    for job_id, job in workflow["jobs"].items():
        if job.get("uses", "").startswith("$/"):
            path = job["uses"].removeprefix("$/")
            called = project.yaml(path)[True]["workflow_call"] or {}
            where, called_name = f"{name} {job_id}", path.rpartition("/")[2]
            for kind, given in (("inputs", job.get("with", {})), ("secrets", job.get("secrets", {}))):
                spec = called.get(kind) or {}
                problems += [f"{where}: {called_name} has no {kind[:-1]} {key!r}" for key in given if key not in spec]
                problems += [
                    f"{where}: {called_name} needs {kind[:-1]} {key!r}"
                    for key, value in spec.items()
                    if value.get("required") and key not in given
                ]
    return problems


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_every_action_is_used_as_its_metadata_declares(cookies, row):
    project = bake(cookies, **row)
    assert project_problems(project) == []
    assert_downloads_pinned(project)


def test_a_misspelt_input_of_the_project_s_own_action_is_found(cookies):
    project = bake(cookies)
    ci = project.path / ".github" / "workflows" / "ci.yml"
    text, given = ci.read_text("utf-8"), "python-version: ${{ matrix.python-version }}"
    assert text.count(given) == 1
    ci.write_text(text.replace(given, given.replace("python-version", "python_version")))
    assert project_problems(project) == [
        "ci.yml test: $/.github/actions/setup has no input 'python_version'",
        "ci.yml test: $/.github/actions/setup needs input 'python-version'",
    ]
    (project.path / ".github" / "actions" / "setup" / "action.yml").unlink()
    assert "ci.yml lint: no action.yml at $/.github/actions/setup" in project_problems(project)


def test_the_checks_find_what_they_look_for():
    """Each kind of mistake, planted in a workflow, is reported."""
    pin = pins.PINS["actions/checkout"]["sha"]
    workflow = {
        "jobs": {
            "job": {
                "steps": [
                    {
                        "id": "out",
                        "uses": f"actions/checkout@{pin}",
                        "with": {"persist-credentials": False, "fetch_depth": 0},
                    },
                    {
                        "uses": f"aws-actions/amazon-ecs-deploy-task-definition@{pins.PINS['aws-actions/amazon-ecs-deploy-task-definition']['sha']}"
                    },
                    {"id": "made", "run": 'echo "digest=x" >> "$GITHUB_OUTPUT"'},
                    {"uses": "someone/unknown@" + "0" * 40},
                    {"uses": f"docker/login-action@{'1' * 40}"},
                    {
                        "run": "echo",
                        "env": {
                            "A": "${{ steps.out.outputs.sha }}",
                            "B": "${{ steps.made.outputs.tag }}",
                            "C": "${{ steps.gone.outputs.x }}",
                            "D": "${{ steps.made.outputs.digest }}",
                        },
                    },
                    {"uses": "$/.github/actions/setup", "with": {"pyhton-version": "3.13"}},
                    {"uses": "$/.github/actions/gone"},
                ]
            }
        }
    }
    setup = {"inputs": {"python-version": {"required": True, "default": False}}, "outputs": []}
    own = {"$/.github/actions/setup": setup}
    assert problems_of(workflow, "w.yml", own) == [
        "w.yml job: actions/checkout has no input 'fetch_depth'",
        "w.yml job: aws-actions/amazon-ecs-deploy-task-definition needs input 'task-definition'",
        "w.yml job: no metadata for someone/unknown; add it with scripts/action_metadata.py",
        f"w.yml job: docker/login-action's metadata is for {pins.PINS['docker/login-action']['sha'][:7]},"
        " the step pins 1111111",
        "w.yml job: $/.github/actions/setup has no input 'pyhton-version'",
        "w.yml job: $/.github/actions/setup needs input 'python-version'",
        "w.yml job: no action.yml at $/.github/actions/gone",
        "w.yml job: steps.out has no output 'sha'",
        "w.yml job: steps.made has no output 'tag'",
        "w.yml job: reads steps.gone, a step it does not have",
    ]


def test_every_pinned_action_has_metadata_at_its_pin():
    for repo, pin in pins.PINS.items():
        assert METADATA.get(repo, {}).get("sha") == pin["sha"], f"{repo}: run scripts/action_metadata.py"


# --- what actions download at run time: a version (and checksum or digest) each

TOOLS = pins.TOOLS


def assert_downloads_pinned(project):
    """Every step whose action fetches a tool names the tool's pinned version; no `latest`."""
    texts = [path.read_text("utf-8") for path in (project.path / ".github" / "workflows").glob("*.yml")]
    own = [path.read_text("utf-8") for path in (project.path / ".github" / "actions").glob("*/action.yml")]
    assert not any("zizmor: ignore" in text for text in texts + own), "no finding is suppressed"
    jobs = [job for text in texts for job in yaml.safe_load(text)["jobs"].values()]
    jobs += [yaml.safe_load(text)["runs"] for text in own]  # a composite action's steps
    for job in jobs:
        for step in job.get("steps", []):
            action, given = action_of(step), step.get("with", {})
            assert "latest" not in {str(value) for value in given.values()}, step
            if action == "Azure/setup-kubectl":
                assert given["version"] == TOOLS["kubectl"]["version"]
            elif action == "docker/setup-buildx-action":
                buildkit = TOOLS["buildkit"]
                assert given["driver-opts"] == f"image={buildkit['image']}:{buildkit['version']}@{buildkit['digest']}"
            elif action == "astral-sh/setup-uv":
                assert given["version-file"] == "requirements-uv.txt" and project.exists("requirements-uv.txt")
            elif action == "codecov/codecov-action":
                assert given["version"] == TOOLS["codecov-cli"]["version"] and given.get("skip_validation") is not True
            elif action == "google-github-actions/deploy-cloudrun":
                assert given["gcloud_version"] == TOOLS["gcloud"]["version"]
            elif action == "aquasecurity/trivy-action":
                assert given["version"] == pins.PINS["aquasecurity/trivy-action"]["trivy"]


def test_one_uv_for_ci_the_image_and_pre_commit(cookies):
    project = bake(cookies, package_manager="uv")
    pinned = project.text("requirements-uv.txt")
    version = re.search(r"^uv==(\S+) \\$", pinned, re.MULTILINE)[1]
    assert version == TOOLS["uv"]["version"]
    assert sorted(re.findall(r"--hash=sha256:([0-9a-f]{64})", pinned)) == sorted(TOOLS["uv"]["sha256"])
    assert "pip install --require-hashes --no-deps -r requirements-uv.txt" in project.text("Dockerfile")
    hooks = {hook["id"]: hook for repo in project.yaml(".pre-commit-config.yaml")["repos"] for hook in repo["hooks"]}
    assert hooks["uv-lock"]["additional_dependencies"] == [f"uv=={version}"]
    assert not bake(cookies).exists("requirements-uv.txt")


def test_the_tool_pins_are_well_formed():
    assert re.fullmatch(r"v\d+\.\d+\.\d+", TOOLS["kubectl"]["version"])
    assert set(TOOLS["kubectl"]["sha256"]) == {"X64", "ARM64"}  # RUNNER_ARCH's names
    assert all(re.fullmatch(r"[0-9a-f]{64}", sha) for sha in TOOLS["kubectl"]["sha256"].values())
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", TOOLS["buildkit"]["digest"])
    # The uv of the template's own tests is the uv the projects pin, with every file's hash.
    assert TOOLS["uv"]["version"] == pins.UV_VERSION
    assert len(TOOLS["uv"]["sha256"]) == len(set(TOOLS["uv"]["sha256"])) > 10


def test_every_pin_is_used():
    """A pin nothing uses is a pin nobody reviews: the generated workflows name actions through
    uses("owner/repo[/path]"), the template's own CI by owner/repo@sha."""
    used = set()
    for folder in (ROOT / "macros", ROOT / "targets", ROOT / "registries", ROOT / "{{cookiecutter.project_slug}}"):
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix in (".yml", ".yaml", ".j2"):
                used |= set(re.findall(r'uses\("([\w.-]+/[\w.-]+)', path.read_text("utf-8")))
    for path in (ROOT / ".github").rglob("*.yml"):
        used |= set(re.findall(r"([\w.-]+/[\w.-]+)(?:/[\w./-]+)?@[0-9a-f]{40}", path.read_text("utf-8")))
    assert set(pins.PINS) - used == set(), "pinned but used nowhere"
    assert used - set(pins.PINS) == set(), "used but not pinned"
