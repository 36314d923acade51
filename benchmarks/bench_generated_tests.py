#!/usr/bin/env python3
"""How long a new owner waits for the generated project's own checks: install, lint, tests.

    .venv/bin/python -m benchmarks.bench_generated_tests [--rounds N] [--template DIR] [answer=value ...]

Bakes the project (uv and ruff unless answered otherwise) and, each round, from a fresh copy and
an empty uv cache (a CI runner without a cache hit; pip keeps its own cache), times `python
tasks.py` install (for pip, after `python -m venv .venv`), lint, test-unit and test-integration
as a new owner runs them. Prints each phase's median wall and CPU time (CPU is the steadier
figure on a shared machine) and the slowest tests of the last round (pytest's --durations).
`--template` measures another checkout of the template (say, `git worktree add /tmp/before
main`) the same way.
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


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_round(baked: Path, work: Path, python: str) -> tuple[dict[str, tuple[float, float]], str]:
    """Wall and CPU seconds per phase for a fresh copy of `baked` with an empty uv cache; pytest's
    durations."""
    project = shutil.copytree(baked, work / "project")
    env = {
        **os.environ,
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
    for phase in PHASES:
        cpu, start = children_cpu(), time.perf_counter()
        result = subprocess.run(
            commands.get(phase, [venv_python, "tasks.py", phase]),
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds[phase] = (time.perf_counter() - start, children_cpu() - cpu)
        if result.returncode:
            sys.exit(f"{phase} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        if phase.startswith("test"):
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

    def median(phase: str | None, index: int) -> float:
        return statistics.median(sum(r[p][index] for p in ([phase] if phase else PHASES)) for r in rounds)

    print(f"{options.template}: {', '.join(f'{k}={v}' for k, v in context.items())}; {python};")
    print(f"{options.rounds} rounds, medians, wall (CPU):")
    print(f"  cold install + lint + tests: {median(None, 0):.1f} s ({median(None, 1):.1f} s)")
    for phase in PHASES:
        print(f"  {phase:>16}: {median(phase, 0):.2f} s ({median(phase, 1):.2f} s)")
    print(f"slowest tests, last round:\n{durations}")


if __name__ == "__main__":
    main()
