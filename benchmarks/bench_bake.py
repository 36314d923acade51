#!/usr/bin/env python3
"""How long a bake of the defaults takes beyond cookiecutter's own start-up.

    .venv/bin/python -m benchmarks.bench_bake [--rounds N] [--template DIR]

Each round runs `cookiecutter --version` and two `cookiecutter --no-input` bakes of the defaults
as new processes, back to back in rotating order, so all see the same machine load: one bake as
a second bake on this machine runs (Jinja's compiled templates cached, see jinja_extension.py),
one as a first bake does (an empty temporary directory, so nothing cached). The figures are the
medians over the rounds of (bake - start-up), in wall time and in CPU time (the bake's process
and its hooks'). CPU is the steadier figure on a shared machine. `--template` measures another
template (a peer) the same way. The runs write Python's bytecode as a user's Python does, even
where PYTHONDONTWRITEBYTECODE is set: else every bake would compile the template's own modules.
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

ROOT = Path(__file__).resolve().parents[1]
COOKIECUTTER = str(Path(sys.executable).parent / "cookiecutter")
ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(command: list[str], env: dict = ENVIRONMENT) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `command`, which must succeed."""
    cpu, start = children_cpu(), time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start, children_cpu() - cpu


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--template", default=str(ROOT))
    options = parser.parse_args()

    startup = [COOKIECUTTER, "--version"]
    figures: dict[str, list[tuple[float, float]]] = {"start-up": [], "bake": [], "first bake": []}
    with tempfile.TemporaryDirectory() as out:
        bake = [COOKIECUTTER, "--no-input", "--overwrite-if-exists", options.template, "-o", out]

        def first_bake() -> tuple[float, float]:
            with tempfile.TemporaryDirectory() as empty:
                return measure(bake, env={**ENVIRONMENT, "TMPDIR": empty})

        runs = {"start-up": lambda: measure(startup), "bake": lambda: measure(bake), "first bake": first_bake}
        runs["start-up"](), runs["bake"]()  # warm the file cache, the bytecode and the compiled templates
        for round_ in range(options.rounds):
            order = list(runs)[round_ % 3 :] + list(runs)[: round_ % 3]
            for name in order:
                figures[name].append(runs[name]())

    for index, unit in ((0, "wall"), (1, "CPU")):
        startups = [run[index] for run in figures["start-up"]]
        for name in ("bake", "first bake"):
            bakes = [run[index] for run in figures[name]]
            extra = [bake - start for bake, start in zip(bakes, startups, strict=True)]
            quartiles = statistics.quantiles(extra)
            print(
                f"{unit:>4} {name:>10}: minus start-up median {ms(statistics.median(extra))}"
                f" (quartiles {ms(quartiles[0])}-{ms(quartiles[2])});"
                f" bake {ms(statistics.median(bakes))}, start-up {ms(statistics.median(startups))},"
                f" {options.rounds} rounds"
            )


if __name__ == "__main__":
    main()
