#!/usr/bin/env python3
"""Record the import names of every distribution locks/ pins, into import-names.json.

A generated project's package must not take the name of one of its own dependencies' modules
(`yaml`, `dotenv`, `flask`...): its editable install would shadow the real one. Which names a
distribution installs is written in its wheel's RECORD, not in its name (pyyaml installs `yaml`,
python-dotenv `dotenv`), so this downloads each pinned wheel and reads it. flask_cicd/checks.py refuses
the names; a test checks this file still covers every locked distribution.

    .venv/bin/python -m scripts.import_names     # needs network access to PyPI; after lock_dependencies.py
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from flask_cicd.answers import DISTROLESS_PYTHON, IMPORT_NAMES, PYTHON_END_OF_LIFE, locked_distributions


def top_level_names(wheel: Path) -> list[str]:
    """The importable top-level names a wheel installs, from its RECORD."""
    with zipfile.ZipFile(wheel) as archive:
        # The wheel's own RECORD, not one of a vendored package (setuptools/_vendor/...).
        record = next(name for name in archive.namelist() if re.fullmatch(r"[^/]+\.dist-info/RECORD", name))
        rows = csv.reader(io.StringIO(archive.read(record).decode("utf-8")))
        names = set()
        for path, *_ in rows:
            first = path.split("/")[0]
            if first.endswith((".dist-info", ".data")) or first.endswith(".pth"):
                continue
            module = first.split(".")[0] if "/" not in path else first
            if module.isidentifier():
                names.add(module)
        return sorted(names)


def main() -> None:
    pins = {
        name: max(versions, key=lambda v: [int(p) if p.isdigit() else p for p in re.split(r"\.", v)])
        for name, versions in locked_distributions().items()
    }
    names = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, version in sorted(pins.items()):
            # A wheel for the oldest Python the template accepts, else for the image's.
            for python in (min(PYTHON_END_OF_LIFE), DISTROLESS_PYTHON):
                download = [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--python-version",
                    python,
                    "--dest",
                    folder,
                    f"{name}=={version}",
                ]
                if subprocess.run(download, capture_output=True).returncode == 0:
                    break
            else:
                raise SystemExit(
                    f"no wheel of {name}=={version} for Python {min(PYTHON_END_OF_LIFE)} or {DISTROLESS_PYTHON}"
                )
            normalized = re.sub(r"[-_.]+", "_", name).lower()
            wheel = next(
                wheel
                for wheel in Path(folder).glob("*.whl")
                if re.sub(r"[-_.]+", "_", wheel.name.split("-")[0]).lower() == normalized
            )
            names[name] = top_level_names(wheel)
            wheel.unlink()
            print(f"{name}: {', '.join(names[name])}")
    IMPORT_NAMES.write_text(json.dumps(names, indent=1, sort_keys=True) + "\n", "utf-8")


if __name__ == "__main__":
    main()
