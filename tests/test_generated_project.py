"""The generated project's own checks, run as its owner would: install, lint, bandit, tests.

test_workflows.py runs the same checks through the generated workflow's own steps for the
defaults and for uv + ruff; here are other combinations of package manager, style, audit,
metrics and error tracking."""

import sys
import xml.etree.ElementTree as ET

import pytest
from helpers import answers, bake, combination_id, find_python, pairwise

# With the defaults' metrics=prometheus, error_tracking=none there, these cover the other
# combinations of metrics and error_tracking.
COMBINATIONS = [
    pytest.param(
        {
            "package_manager": "pip",
            "code_style": "ruff",
            "dependency_audit": "safety",
            "metrics": "none",
            "error_tracking": "sentry",
        },
        id="pip-ruff-safety-no_metrics-sentry",
    ),
    pytest.param(
        {
            "package_manager": "uv",
            "code_style": "black+flake8",
            "dependency_audit": "none",
            "metrics": "prometheus",
            "error_tracking": "sentry",
        },
        id="uv-black_flake8-no-audit-sentry",
    ),
    pytest.param(
        {
            "package_manager": "pip",
            "code_style": "black+flake8",
            "dependency_audit": "pip-audit",
            "metrics": "none",
            "error_tracking": "none",
        },
        id="pip-black_flake8-no_metrics",
    ),
]


@pytest.mark.slow
@pytest.mark.sample(1)
@pytest.mark.parametrize("overrides", COMBINATIONS)
def test_project_passes_its_own_checks(cookies, overrides):
    project = bake(cookies, **overrides)
    project.install_as_owner()
    project.run_task("lint", "bandit", "test", env={"CI": "true"})  # CI's coverage.xml

    coverage = float(ET.parse(project["coverage.xml"]).getroot().get("line-rate"))
    assert coverage > 0.95, f"the generated project's own coverage is {coverage:.1%}"


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"code_style": style, "dependency_audit": audit}, id=f"{style}-{audit}")
        for style in answers.CHOICES["code_style"]
        for audit in answers.CHOICES["dependency_audit"]
    ],
)
def test_uv_lock_matches_pyproject(cookies, overrides):
    """uv itself agrees that the rendered uv.lock is up to date, for an unusual name, version and
    oldest Python (uv.lock is folded from locks made for the template's oldest Python)."""
    project = bake(
        cookies,
        package_manager="uv",
        project_name="Zed Svc",
        version="2.0.1",
        python_versions="3.13, 3.14",
        **overrides,
    )
    python = find_python(["3.13", "3.12", "3.11"])
    project.run("uv", "lock", "--check", "--offline", "--python", python)


LOCKED_ANSWERS = ("code_style", "dependency_audit", "metrics", "error_tracking")


@pytest.mark.long
@pytest.mark.sample(2)
@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(row, id=combination_id(row))
        for row in pairwise({name: answers.CHOICES[name] for name in LOCKED_ANSWERS})
    ],
)
def test_pip_requirements_are_complete_and_hashed(cookies, overrides, tmp_path):
    """pip in hash-checking mode refuses a requirements set that misses any dependency's pin."""
    project = bake(cookies, package_manager="pip", **overrides)
    project.run(
        sys.executable,
        "-m",
        "pip",
        "install",
        "--dry-run",
        "--ignore-installed",
        "--quiet",
        "--require-hashes",
        "-r",
        "requirements.txt",
        "-r",
        "requirements-test.txt",
    )
