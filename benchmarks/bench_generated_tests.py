#!/usr/bin/env python3
"""How long a new owner waits for the generated project's own checks: install, lint, tests.

    .venv/bin/python -m benchmarks.bench_generated_tests [--rounds N] [--template DIR] [answer=value ...]

Bakes the project (uv and ruff unless answered otherwise) and, each round, from a fresh copy and
an empty uv cache (a CI runner without a cache hit; pip keeps its own cache), times `python
tasks.py` install (for pip, after `python -m venv .venv`), lint, test-unit and test-integration
as a new owner runs them, then test-unit once more: the unit tests alone, as they run again and
again while one works. Prints the medians of wall and CPU time (CPU, the children's user and
system time, is the steadier figure on a shared machine) against issue 13's targets, the load
average before and after, and the slowest tests of the last round (pytest's --durations).
Python writes its bytecode caches, as on a new owner's machine and in CI, even where the
environment says PYTHONDONTWRITEBYTECODE. `--template` measures another checkout of the
template (say, `git worktree add /tmp/before main`) the same way.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.helpers import ROOT, answers, find_python

PHASES = ("install", "lint", "test-unit", "test-integration")
AGAIN = "test-unit again"
# Issue 13's targets, in seconds of wall time.
TARGETS = {"cold install + lint + tests": 8.0, "unit tests alone": 2.0}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_round(baked: Path, work: Path, python: str) -> tuple[dict[str, tuple[float, float]], str]:
    """Wall and CPU seconds per phase for a fresh copy of `baked` with an empty uv cache; pytest's
    durations."""
    project = shutil.copytree(baked, work / "project")
    env = {
        **{name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"},
        "UV_CACHE_DIR": str(work / "uv-cache"),
        "UV_PYTHON": python,
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NATIVE_TLS": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTEST_ADDOPTS": "--durations=8",
    }
    venv_python = str(project / ".venv" / "bin" / "python")
    # As the README says: uv makes .venv itself; pip installs into a venv made first.
    uv = (project / "uv.lock").exists()
    commands = (
        {"install": [python, "tasks.py", "install"]}
        if uv
        else {"install": ["sh", "-c", f"{python} -m venv .venv && {venv_python} tasks.py install"]}
    )
    seconds, durations = {}, ""
    for phase in (*PHASES, AGAIN):
        cpu, start = children_cpu(), time.perf_counter()
        result = subprocess.run(
            commands.get(phase, [venv_python, "tasks.py", phase.split()[0]]),
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds[phase] = (time.perf_counter() - start, children_cpu() - cpu)
        if result.returncode:
            sys.exit(f"{phase} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        if phase in PHASES and phase.startswith("test"):
            durations += result.stdout[result.stdout.find("slowest") - 4 :].split("\n=")[0] + "\n"
    return seconds, durations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--template", default=str(ROOT))
    parser.add_argument("answers", nargs="*", help="name=value answers on top of uv and ruff")
    options = parser.parse_args()
    context = {"package_manager": "uv", "code_style": "ruff"}
    context.update(answer.split("=", 1) for answer in options.answers)

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as out:
        # A process of its own: a template's extension and hooks import that template's modules.
        cookiecutter = Path(sys.executable).parent / "cookiecutter"
        bake = [cookiecutter, "--no-input", options.template, "-o", out]
        subprocess.run([*bake, *(f"{k}={v}" for k, v in context.items())], check=True)
        (baked,) = Path(out).iterdir()
        versions = context.get("python_versions", answers.DEFAULT_ANSWERS["python_versions"])
        python = find_python(answers.python_versions(versions))
        rounds = []
        for _ in range(options.rounds):
            with tempfile.TemporaryDirectory() as work:
                seconds, durations = run_round(baked, Path(work), python)
                rounds.append(seconds)

    def median(phases: tuple[str, ...], index: int) -> float:
        return statistics.median(sum(r[p][index] for p in phases) for r in rounds)

    def line(name: str, phases: tuple[str, ...]) -> str:
        wall, cpu = median(phases, 0), median(phases, 1)
        target = TARGETS.get(name)
        verdict = f"   target <= {target:.0f} s: {'met' if wall <= target else 'NOT met'}" if target else ""
        return f"  {name:>27}: {wall:5.2f} s ({cpu:5.2f} s){verdict}"

    print(f"{options.template}: {', '.join(f'{k}={v}' for k, v in context.items())}; {python};")
    print(f"load average (1 min) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs")
    print(f"{options.rounds} rounds, medians, wall (CPU):")
    print(line("cold install + lint + tests", PHASES))
    for phase in PHASES:
        print(line(phase, (phase,)))
    print(line("unit tests alone", (AGAIN,)))
    print(f"slowest tests, last round:\n{durations}")


if __name__ == "__main__":
    main()
