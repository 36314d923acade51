"""A generated pipeline in figures: its job graph, the critical path, the test matrix, and what
each validator finds (and how long it takes).

    .venv/bin/python -m benchmarks.pipeline                    # the defaults
    .venv/bin/python -m benchmarks.pipeline container_registry=ecr package_manager=uv
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from cookiecutter.main import cookiecutter

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def as_list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def timed(command: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    return result, time.perf_counter() - start


def chain(job: str, needs: dict[str, list[str]]) -> list[list[str]]:
    """The longest chains of `needs` ending at `job` (all of them when several tie)."""
    if not needs[job]:
        return [[job]]
    longest = [c + [job] for need in needs[job] for c in chain(need, needs)]
    depth = max(map(len, longest))
    return [c for c in longest if len(c) == depth]


def main(argv: list[str]) -> int:
    if any("=" not in arg for arg in argv):
        print(__doc__.strip(), file=sys.stderr)  # --help, or a word that is not NAME=VALUE
        return 0 if argv in (["-h"], ["--help"]) else 2
    extra = dict(arg.split("=", 1) for arg in argv)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        project = Path(cookiecutter(str(ROOT), no_input=True, output_dir=tmp, extra_context=extra))
        print(f"bake: {time.perf_counter() - start:.2f} s  ({extra or 'defaults'})")

        ci = yaml.safe_load((project / ".github/workflows/ci.yml").read_text("utf-8"))
        needs = {name: as_list(job.get("needs")) for name, job in ci["jobs"].items()}
        print("\njob graph (job <- needs):")
        for name, waits in needs.items():
            print(f"  {name:18} <- {', '.join(waits) or '(starts at once)'}")
        cells = ci["jobs"]["test"]["strategy"]["matrix"]
        print(
            f"\ntest matrix: {len(cells['os'])} OS x {len(cells['python-version'])} Python = "
            f"{len(cells['os']) * len(cells['python-version'])} jobs"
        )
        for target in [t for t in ("build", "ci-ok") if t in needs]:
            paths = chain(target, needs)
            print(f"critical path to {target}: {len(paths[0])} jobs in series, any of:")
            for path in paths:
                print("  " + " -> ".join(path))

        files = sorted((project / ".github/workflows").glob("*.yml"))
        config = project / ".github/actionlint.yaml"
        print("\nvalidators (findings, time):")
        result, seconds = timed(
            [
                str(BIN / "actionlint"),
                "-format",
                "{{json .}}",
                f"-shellcheck={BIN / 'shellcheck'}",
                *([f"-config-file={config}"] if config.exists() else []),
                *map(str, files),
            ],
            project,
        )
        print(f"  actionlint + shellcheck: {len(json.loads(result.stdout or '[]'))} findings, {seconds:.2f} s")
        result, seconds = timed([str(BIN / "zizmor"), "--offline", "--persona=pedantic", "--format=json", "."], project)
        plain, _ = timed([str(BIN / "zizmor"), "--offline", "--persona=pedantic", "."], project)
        ignored = re.search(r"\((\d+) ignored", plain.stdout)
        print(
            f"  zizmor --persona=pedantic: {len(json.loads(result.stdout))} findings "
            f"({ignored[1] if ignored else 0} suppressed by reviewed ignore comments), {seconds:.2f} s"
        )
        for schema, targets in [
            ("vendor.github-workflows", files),
            ("vendor.dependabot", [project / ".github/dependabot.yml"]),
        ]:
            result, seconds = timed(
                [
                    str(BIN / "check-jsonschema"),
                    "--builtin-schema",
                    schema,
                    "--output-format",
                    "json",
                    *map(str, targets),
                ],
                project,
            )
            report = json.loads(result.stdout)
            print(
                f"  check-jsonschema {schema}: {len(report.get('errors', []))} findings "
                f"in {len(targets)} files, {seconds:.2f} s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
