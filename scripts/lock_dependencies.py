#!/usr/bin/env python3
"""Re-pin the generated project's dependencies for every combination of answers.

Which packages a project needs depends on its answers (code_style, dependency_audit, metrics,
error_tracking), so this bakes each combination, runs the baked project's own `python tasks.py lock`
(uv pip compile for pip, uv lock for uv), and folds the results into locks.json: each package
block with the answers under which uv produced it. The post-generation hook writes a project's
lock files from there (answers.lock_files); as data, not Jinja, they cost a bake almost nothing.

    .venv/bin/python -m scripts.lock_dependencies      # needs network access to PyPI

Locks are made for the oldest Python the template accepts, so they install on every version a
project may answer; the project's own `python tasks.py lock` narrows that to its answers.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

from cookiecutter.main import cookiecutter

from flask_cicd.answers import CHOICES, LOCKS, PYTHON_END_OF_LIFE, ROOT

# The answers that change which packages are installed.
LOCK_ANSWERS = ("code_style", "dependency_audit", "metrics", "error_tracking")
LOCK_FILES = {"pip": ("requirements.txt", "requirements-test.txt"), "uv": ("uv.lock",)}
OLDEST_PYTHON = min(PYTHON_END_OF_LIFE, key=lambda v: tuple(map(int, v.split("."))))
PROBE = "lock-probe"  # a project name that appears nowhere else in a lock file

Combo = tuple[str, ...]


def lock_one(package_manager: str, combo: Combo) -> dict[str, str]:
    """Bake one combination, run its own lock task, return {file name: text}."""
    answers = dict(zip(LOCK_ANSWERS, combo))
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
        subprocess.run(
            [sys.executable, "tasks.py", "lock"], cwd=project, env=env, check=True, capture_output=True
        )
        return {name: (project / name).read_text("utf-8") for name in LOCK_FILES[package_manager]}


def requirement_blocks(text: str) -> list[tuple[str, str]]:
    """Split a requirements file into (key, text) blocks: the header, then one per requirement."""
    header, blocks = "", []
    for line in text.splitlines(keepends=True):
        if not blocks and line.startswith("#"):
            header += line
        elif line.startswith((" ", "#")):  # its hashes and "# via" lines
            blocks[-1][1] += line
        else:
            blocks.append([line.split(" ")[0].lower(), line])
    return [("#header", header)] + [(key, body) for key, body in blocks]


def lock_blocks(text: str) -> list[tuple[str, str]]:
    """Split uv.lock into (key, text) blocks: the header, then one per [[package]]."""
    header, *packages = text.split("\n[[package]]\n")
    blocks = [("#header", header + "\n")]
    for package in packages:
        name, version = re.match(r'name = "(.*)"\nversion = "(.*)"', package).groups()
        blocks.append((f"{name}=={version}", "[[package]]\n" + package.rstrip("\n") + "\n\n"))
    # The last block ends the file with a single newline, as uv writes it.
    blocks[-1] = (blocks[-1][0], blocks[-1][1].rstrip("\n") + "\n")
    return blocks


def merged_order(sequences: list[list[str]]) -> list[str]:
    """All keys, each after the keys that precede it in any sequence (they agree on order)."""
    order: list[str] = []
    for sequence in sequences:
        previous = -1
        for key in sequence:
            if key in order:
                previous = order.index(key)
            else:
                previous += 1
                order.insert(previous, key)
    return order


def condition(combos: set[Combo], universe: list[Combo]) -> dict | None:
    """The answers that decide whether a block is in, and their values when it is; None: always."""
    if set(universe) <= combos:
        return None
    relevant = [
        i
        for i, name in enumerate(LOCK_ANSWERS)
        if any(
            (combo[:i] + (value,) + combo[i + 1 :]) not in combos
            for combo in combos
            for value in CHOICES[name]
        )
    ]
    return {
        "answers": [LOCK_ANSWERS[i] for i in relevant],
        "cases": sorted({tuple(combo[i] for i in relevant) for combo in combos}),
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


def fold(name: str, variants: dict[Combo, str]) -> list[dict]:
    """All variants of a lock file as one list of blocks, each with the answers it needs."""
    split = lock_blocks if name == "uv.lock" else requirement_blocks
    blocks = {combo: split(text) for combo, text in variants.items()}
    universe = list(variants)
    folded = []
    for key in merged_order([[k for k, _ in b] for b in blocks.values()]):
        texts: dict[str, set[Combo]] = {}
        for combo, pairs in blocks.items():
            for k, text in pairs:
                if k == key:
                    texts.setdefault(text, set()).add(combo)
        for text, combos in texts.items():
            block = {"text": with_placeholders(name, text)}
            if when := condition(combos, universe):
                block["when"] = when
            folded.append(block)
    return folded


def main() -> None:
    combos = list(itertools.product(*(CHOICES[name] for name in LOCK_ANSWERS)))
    locks = {}
    for package_manager, names in LOCK_FILES.items():
        # Processes, not threads: cookiecutter changes the working directory while it bakes.
        with ProcessPoolExecutor(max_workers=4) as pool:
            results = dict(zip(combos, pool.map(partial(lock_one, package_manager), combos)))
        locks[package_manager] = {
            name: fold(name, {combo: result[name] for combo, result in results.items()}) for name in names
        }
    LOCKS.write_text(json.dumps(locks, indent=1) + "\n", "utf-8")
    print(f"{LOCKS.name}: {len(combos)} combinations of {', '.join(LOCK_ANSWERS)} folded")


if __name__ == "__main__":
    main()
