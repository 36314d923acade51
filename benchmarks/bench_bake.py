#!/usr/bin/env python3
"""How long baking takes, and how long a new owner waits for the default project's first green run.

    .venv/bin/python benchmarks/bench_bake.py [--rounds N]

Prints the median bake time over N bakes, then, for pip and for uv, the cold time of: a new
virtual environment, installing the pinned dependencies, lint, bandit and the tests. "Cold" means
empty pip/uv caches (a fresh CI runner without a cache hit); "warm" reruns with the caches filled.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cookiecutter.main import cookiecutter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers import answers, find_python  # noqa: E402


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the hooks): steadier than wall time
    on a busy machine."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def bake(output: str, **answers_) -> Path:
    return Path(cookiecutter(str(ROOT), no_input=True, output_dir=output, extra_context=answers_))


def first_green_run(package_manager: str, caches: Path) -> dict[str, float]:
    """Seconds for each step of a new owner's first run of the default project."""
    env = {
        **os.environ,
        "PIP_CACHE_DIR": str(caches / "pip"),
        "UV_CACHE_DIR": str(caches / "uv"),
        "UV_PYTHON_DOWNLOADS": "never",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    with tempfile.TemporaryDirectory() as out:
        project = bake(out, package_manager=package_manager)
        python = find_python(answers.python_versions(answers.DEFAULT_ANSWERS["python_versions"]))
        venv_python = project / ".venv" / "bin" / "python"

        def sh(*command: str) -> None:
            subprocess.run(command, cwd=project, env=env, check=True, capture_output=True)

        steps = {}
        if package_manager == "uv":
            env["UV_PYTHON"] = python
            steps["venv + install"] = timed(lambda: sh(python, "tasks.py", "install"))
        else:
            steps["venv"] = timed(lambda: sh(python, "-m", "venv", ".venv"))
            steps["install"] = timed(lambda: sh(str(venv_python), "tasks.py", "install"))
        for task in ("lint", "bandit", "test"):
            steps[task] = timed(lambda: sh(str(venv_python), "tasks.py", task))
        return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds

    with tempfile.TemporaryDirectory() as out:
        bake(out)  # import and cache warm-up
        walls, cpus = [], []
        for i in range(rounds):
            cpu_before = cpu_seconds()
            walls.append(timed(lambda: bake(out, project_name=f"Bench {i}")))
            cpus.append(cpu_seconds() - cpu_before)
    print(
        f"bake (defaults) over {rounds}: median {statistics.median(walls) * 1000:.0f} ms wall"
        f" (min {min(walls) * 1000:.0f}, max {max(walls) * 1000:.0f}),"
        f" median {statistics.median(cpus) * 1000:.0f} ms CPU with the hooks' processes"
    )

    for package_manager in answers.CHOICES["package_manager"]:
        with tempfile.TemporaryDirectory() as caches:
            for label in ("cold", "warm"):
                steps = first_green_run(package_manager, Path(caches))
                detail = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps.items())
                print(f"{package_manager} {label}: total {sum(steps.values()):.1f} s ({detail})")


if __name__ == "__main__":
    main()
