#!/usr/bin/env python3
"""How long a bake of the defaults takes beyond cookiecutter's own start-up.

    .venv/bin/python benchmarks/bench_bake.py [--rounds N] [--template DIR]

Each round runs `cookiecutter --version` and a `cookiecutter --no-input` bake of the defaults as
new processes, back to back in alternating order, so both see the same machine load; the figure is
the median over the rounds of (bake - start-up), in wall time and in CPU time (the bake's processes
and its hooks'). CPU is the steadier figure on a shared machine. `--template` measures another
template (a peer) the same way.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COOKIECUTTER = str(Path(sys.executable).parent / "cookiecutter")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `command`, which must succeed."""
    cpu, start = children_cpu(), time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, children_cpu() - cpu


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--template", default=str(ROOT))
    options = parser.parse_args()

    startup = [COOKIECUTTER, "--version"]
    figures: dict[str, list[tuple[float, float]]] = {"start-up": [], "bake": []}
    with tempfile.TemporaryDirectory() as out:
        bake = [COOKIECUTTER, "--no-input", "--overwrite-if-exists", options.template, "-o", out]
        measure(startup), measure(bake)  # warm the file cache and the bytecode
        for round_ in range(options.rounds):
            pair = [("start-up", startup), ("bake", bake)]
            for name, command in pair if round_ % 2 else reversed(pair):
                figures[name].append(measure(command))

    for index, unit in ((0, "wall"), (1, "CPU")):
        startups = [run[index] for run in figures["start-up"]]
        bakes = [run[index] for run in figures["bake"]]
        extra = [bake - start for bake, start in zip(bakes, startups, strict=True)]
        print(
            f"{unit:>4}: bake minus start-up median {ms(statistics.median(extra))}"
            f" (quartiles {ms(statistics.quantiles(extra)[0])}-{ms(statistics.quantiles(extra)[2])});"
            f" bake {ms(statistics.median(bakes))}, start-up {ms(statistics.median(startups))},"
            f" {options.rounds} paired rounds"
        )


if __name__ == "__main__":
    main()
