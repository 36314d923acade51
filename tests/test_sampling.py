"""The sampled tests (`sample(k)`, tests/conftest.py): k cases a run, chosen by the seed alone,
and every case with FLASK_CICD_FULL=1; and the order the tests run in, the longest first."""

import os
import subprocess
import sys
from functools import cache

import pytest
from helpers import ROOT

SAMPLED = {  # test -> k
    "tests/test_container.py::test_image_builds_and_runs_healthy_as_non_root_and_stops_on_sigterm": 2,
    "tests/test_generated_project.py::test_project_passes_its_own_checks": 1,
    "tests/test_generated_project.py::test_pip_requirements_are_complete_and_hashed": 2,
}


@cache  # both tests collect seed 1: once per worker
def collected(**env: str) -> list[str]:
    files = sorted({test.partition("::")[0] for test in SAMPLED})
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_CICD_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *files],
        cwd=ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if "::" in line]


def cases(nodeids: list[str], test: str) -> list[str]:
    return [nodeid for nodeid in nodeids if nodeid.partition("[")[0] == test]


@pytest.mark.long
def test_a_seed_takes_k_cases_of_each_sampled_test_and_the_same_ones_again():
    first, again = collected(FLASK_CICD_SAMPLE_SEED="1"), collected(FLASK_CICD_SAMPLE_SEED="1")
    assert first == again
    for test, k in SAMPLED.items():
        assert len(cases(first, test)) == k, test
    others = [collected(FLASK_CICD_SAMPLE_SEED=str(seed)) for seed in (2, 3, 4)]
    assert any(other != first for other in others), "the seed changes nothing"


@pytest.mark.long
def test_full_takes_every_case():
    every, sampled = collected(FLASK_CICD_FULL="1", FLASK_CICD_SAMPLE_SEED="1"), collected(FLASK_CICD_SAMPLE_SEED="1")
    for test, k in SAMPLED.items():
        assert len(cases(every, test)) > k, test
    assert set(sampled) < set(every) and len(every) - len(sampled) == sum(
        len(cases(every, t)) - k for t, k in SAMPLED.items()
    )


def test_the_longest_run_first_then_the_rest_as_collected():
    order = list(dict.fromkeys(nodeid.partition("[")[0] for nodeid in collected(FLASK_CICD_SAMPLE_SEED="1")))
    # The image test (container), the project's own checks (slow), its pip locks (long), then the
    # others in file order: test_container.py's cheap tests before test_generated_project.py's.
    assert order[:3] == list(SAMPLED), order
    assert order[3].startswith("tests/test_container.py::") and order[-1].startswith(
        "tests/test_generated_project.py::"
    )
