#!/usr/bin/env python3
"""Re-pin the generated project's dependencies for every combination of answers.

Which packages a project needs depends on its answers (code_style, dependency_audit, metrics,
error_tracking), so this bakes each combination, runs the baked project's own `python tasks.py lock`
(uv pip compile for pip, uv lock for uv), and writes each lock file as the project gets it into
locks/<package manager>/<the answers that select it>/, e.g.
locks/uv/code_style=ruff,dependency_audit=pip-audit,metrics=none,error_tracking=sentry/uv.lock.
A folder names only the answers that change that file (a combination whose file is the same as
another's shares its folder), so a refresh reads as a line-by-line diff of ordinary lock files.
locks/made.json records the day. The post-generation hook writes a project's lock files from
there (answers.lock_files); as data, not Jinja, they cost a bake almost nothing.

    .venv/bin/python -m scripts.lock_dependencies      # needs network access to PyPI

Locks are made for the oldest Python the template accepts, so they install on every version a
project may answer; the project's own `python tasks.py lock` narrows that to its answers. Where
the project's own values stand the files hold <<project_slug>>, <<version>> and <<oldest_python>>.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from functools import partial
from pathlib import Path

from cookiecutter.main import cookiecutter

from flask_cicd.answers import CHOICES, LOCKS, LOCKS_MADE, PYTHON_END_OF_LIFE, ROOT

# The answers that change which packages are installed.
LOCK_ANSWERS = ("code_style", "dependency_audit", "metrics", "error_tracking")
LOCK_FILES = {"pip": ("requirements.txt", "requirements-test.txt"), "uv": ("uv.lock",)}
OLDEST_PYTHON = min(PYTHON_END_OF_LIFE, key=lambda v: tuple(map(int, v.split("."))))
PROBE = "lock-probe"  # a project name that appears nowhere else in a lock file

Combo = tuple[str, ...]


def lock_one(package_manager: str, combo: Combo) -> dict[str, str]:
    """Bake one combination, run its own lock task, return {file name: text with placeholders}."""
    answers = dict(zip(LOCK_ANSWERS, combo, strict=True))
    with tempfile.TemporaryDirectory() as out:
        project = Path(
            cookiecutter(
                str(ROOT),
                no_input=True,
                output_dir=out,
                extra_context={
                    **answers,
                    "project_name": PROBE,
                    "package_manager": package_manager,
                    "python_versions": f"{OLDEST_PYTHON}, 3.13",
                    "container_registry": "ghcr.io",
                },
            )
        )
        for name in LOCK_FILES[package_manager]:
            (project / name).unlink(missing_ok=True)
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "UV_PYTHON_DOWNLOADS": "never",
            # Ask PyPI afresh: a stale cached index in one combination would pin older versions.
            "UV_REFRESH": "1",
        }
        subprocess.run([sys.executable, "tasks.py", "lock"], cwd=project, env=env, check=True, capture_output=True)
        return {
            name: with_placeholders(name, (project / name).read_text("utf-8")) for name in LOCK_FILES[package_manager]
        }


def with_placeholders(name: str, text: str) -> str:
    """Put placeholders where the probe project's own values stand (answers.lock_files fills them)."""
    text = text.replace(PROBE, "<<project_slug>>")
    if name == "uv.lock":
        text = text.replace(f'requires-python = ">={OLDEST_PYTHON}"', 'requires-python = ">=<<oldest_python>>"')
        text = re.sub(r'(name = "<<project_slug>>"\n)version = ".*"', r'\1version = "<<version>>"', text)
    else:
        text = text.replace(f"--python-version {OLDEST_PYTHON}", "--python-version <<oldest_python>>")
    return text


def selecting_answers(variants: dict[Combo, str]) -> list[int]:
    """The positions in LOCK_ANSWERS of the answers that change the file: those where some
    combination, with only that answer changed, gets another text."""
    return [
        i
        for i, name in enumerate(LOCK_ANSWERS)
        if any(
            variants[combo[:i] + (value,) + combo[i + 1 :]] != text
            for combo, text in variants.items()
            for value in CHOICES[name]
        )
    ]


def folder(combo: Combo, selecting: list[int]) -> str:
    """The folder a combination's file lives in: the selecting answers with its values ("any": none)."""
    return ",".join(f"{LOCK_ANSWERS[i]}={combo[i]}" for i in selecting) or "any"


def layout(package_manager: str, results: dict[Combo, dict[str, str]]) -> dict[str, str]:
    """{path under locks/: text} for every lock file of one package manager and every combination.
    Two combinations in one folder agree on every selecting answer, so on the text too."""
    files = {}
    for name in LOCK_FILES[package_manager]:
        variants = {combo: result[name] for combo, result in results.items()}
        selecting = selecting_answers(variants)
        for combo, text in variants.items():
            files[f"{package_manager}/{folder(combo, selecting)}/{name}"] = text
    return files


def write(files: dict[str, str], made: date) -> None:
    """Replace locks/ with `files` (folders no combination selects any more go) and the date."""
    for package_manager in LOCK_FILES:
        shutil.rmtree(LOCKS / package_manager, ignore_errors=True)
    for path, text in files.items():
        (LOCKS / path).parent.mkdir(parents=True, exist_ok=True)
        (LOCKS / path).write_text(text, "utf-8", newline="\n")
    LOCKS_MADE.write_text(json.dumps({"made": made.isoformat()}) + "\n", "utf-8")


def main() -> None:
    combos = list(itertools.product(*(CHOICES[name] for name in LOCK_ANSWERS)))
    files = {}
    for package_manager in LOCK_FILES:
        # Processes, not threads: cookiecutter changes the working directory while it bakes.
        with ProcessPoolExecutor(max_workers=4) as pool:
            results = dict(zip(combos, pool.map(partial(lock_one, package_manager), combos), strict=True))
        files.update(layout(package_manager, results))
    write(files, date.today())
    print(f"locks/: {len(files)} lock files for {len(combos)} combinations of {', '.join(LOCK_ANSWERS)}")


if __name__ == "__main__":
    main()
