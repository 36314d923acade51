"""The set-up the generated jobs share, written once: `.github/actions/setup` (Python, uv or pip's
cache, the locked install) and the audit, `.github/workflows/audit.yml`, which ci.yml and the
nightly security.yml both call. Every job that runs the project's Python checks out, then uses it."""

from __future__ import annotations

import pytest
import yaml
from helpers import CHOICES, answers, bake, combination_id

from flask_cicd import pipeline

SETUP = "$/.github/actions/setup"
ROWS = [
    {},
    {"package_manager": "uv", "dependency_audit": "safety"},
    {"package_manager": "uv", "environments": "staging:release/next, production:main"},
    {
        "dependency_audit": "none",
        "environments": "staging:release/next, production:main",
        "deploy_target": "none",
        "container_registry": "none",
    },
    {"os_matrix": "ubuntu-latest, windows-latest, macos-latest", "deploy_target": "ecs", "container_registry": "ecr"},
]


def github_files(project) -> dict[str, str]:
    folder = project.path / ".github"
    return {path.relative_to(folder).as_posix(): path.read_text("utf-8") for path in sorted(folder.rglob("*.yml"))}


def workflow_jobs(project, name: str) -> dict:
    return project.yaml(f".github/workflows/{name}")["jobs"]


def jobs_of(project):
    """(workflow, job id, job) for every job with steps in the project's workflows."""
    for name, text in github_files(project).items():
        if name.startswith("workflows/"):
            for job_id, job in yaml.safe_load(text)["jobs"].items():
                if "steps" in job:
                    yield name, job_id, job


@pytest.mark.parametrize("row", ROWS, ids=[combination_id(row) or "defaults" for row in ROWS])
def test_the_install_is_written_once_and_every_python_job_uses_it(cookies, row):
    project = bake(cookies, **row)
    texts = github_files(project)
    joined = "\n".join(texts.values())
    assert joined.count("run: python tasks.py install") == 1
    setups = joined.count("actions/setup-python@") + joined.count("astral-sh/setup-uv@")
    assert setups == 1 and texts["actions/setup/action.yml"].count("uses: ") == 1
    newest = answers.newest_python(project.context)
    used = 0
    for name, job_id, job in jobs_of(project):
        uses = [step.get("uses", "").split("@")[0] for step in job["steps"]]
        runs_python = any(step.get("run", "").startswith("python ") for step in job["steps"])
        if SETUP not in uses:
            assert not runs_python, f"{name} {job_id} runs Python it did not set up"
            continue
        used += 1
        # The action reads the lock files: the checkout comes first, and keeps no token.
        checkout = uses.index("actions/checkout")
        assert checkout < uses.index(SETUP), f"{name} {job_id}"
        assert job["steps"][checkout]["with"]["persist-credentials"] is False
        given = job["steps"][uses.index(SETUP)]["with"]
        matrix = job.get("strategy", {}).get("matrix", {})
        assert given["python-version"] == ("${{ matrix.python-version }}" if "python-version" in matrix else newest)
        # Python alone where only the standard library runs (the smoke test, the metrics).
        assert given.get("install", True) is (name not in ("workflows/deploy.yml", "workflows/metrics.yml"))
    # lint, bandit, test; the audit; the deploys' smoke test and the metrics, where they exist
    expected = 3 + (project.context["dependency_audit"] != "none") + 1 + (project.context["deploy_target"] != "none")
    assert used == expected


@pytest.mark.parametrize("row", ROWS, ids=[combination_id(row) or "defaults" for row in ROWS])
def test_the_setup_action_follows_the_answers(cookies, row):
    project = bake(cookies, **row)
    action = project.yaml(".github/actions/setup/action.yml")
    assert action["runs"]["using"] == "composite"
    assert action["inputs"]["python-version"]["required"] is True
    assert action["inputs"]["install"] == {
        "description": action["inputs"]["install"]["description"],
        "required": False,
        "default": "true",
    }
    setup, install = action["runs"]["steps"]
    cached = pipeline.ci_caches(project.context)
    if project.context["package_manager"] == "uv":
        assert setup["uses"].startswith("astral-sh/setup-uv@")
        assert setup["with"]["version-file"] == "requirements-uv.txt" and setup["with"]["activate-environment"] is True
        # A deploy branch named for releases: its runs ship, nothing cached feeds them.
        assert setup["with"]["enable-cache"] == ("${{ inputs.install == 'true' }}" if cached else False)
    else:
        assert setup["uses"].startswith("actions/setup-python@")
        if cached:
            assert setup["with"]["cache"] == "${{ inputs.install == 'true' && 'pip' || '' }}"
            assert setup["with"]["cache-dependency-path"] == "requirements*.txt"
        else:
            assert set(setup["with"]) == {"python-version"}
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"
    # bash is on Linux, Windows and macOS runners alike; the input reaches no script.
    assert install == {"if": "inputs.install == 'true'", "shell": "bash", "run": "python tasks.py install"}


@pytest.mark.parametrize("audit", CHOICES["dependency_audit"])
def test_the_audit_is_one_workflow_that_ci_and_the_nightly_run_call(cookies, audit):
    project = bake(cookies, dependency_audit=audit)
    callers = {name: workflow_jobs(project, name).get("audit") for name in ("ci.yml", "security.yml")}
    if audit == "none":
        assert not project.exists(".github/workflows/audit.yml") and callers == {"ci.yml": None, "security.yml": None}
        return
    safety = audit == "safety"
    for caller in callers.values():
        assert caller["uses"] == "$/.github/workflows/audit.yml" and caller["permissions"] == {"contents": "read"}
        assert caller.get("secrets") == ({"SAFETY_API_KEY": "${{ secrets.SAFETY_API_KEY }}"} if safety else None)
    called = project.yaml(".github/workflows/audit.yml")
    assert set(called[True]["workflow_call"] or {}) == ({"secrets"} if safety else set())
    (job,) = called["jobs"].values()
    assert job["name"] == f"audit ({audit})" and job["permissions"] == {"contents": "read"}
    (audited,) = [step for step in job["steps"] if step.get("run") == "python tasks.py audit"]
    if safety:
        assert job["env"] == {"SAFETY_API_KEY": "${{ secrets.SAFETY_API_KEY }}"}
        # Without the key (fork and Dependabot pull requests), the audit step skips, visibly.
        assert job["steps"][0]["id"] == "key" and audited["if"] == "steps.key.outputs.present == 'true'"
    else:
        assert "env" not in job and "if" not in audited


def test_the_readme_tells_your_own_runners_what_the_action_needs(cookies):
    readme = " ".join(bake(cookies, runner="self-hosted, linux").text("README.md").split())
    assert "They need bash and runner 2.336.0 or newer: the jobs name `.github/actions/setup` as `$/" in readme
