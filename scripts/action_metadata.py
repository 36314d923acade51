#!/usr/bin/env python3
"""Write tests/data/action-metadata.json: the inputs and outputs of each pinned action, read from
its action.yml at the pinned commit. The template's tests check every `with:` key, every required
input and every `steps.<id>.outputs.<name>` of the generated workflows against it.

    python scripts/action_metadata.py DIR

DIR holds <owner>/<repo>[/<path>]/action.yml for each action, at the commit INDEX.json (beside
them: a list of {"action", "sha"}) names. scripts/refresh_pins.py refreshes it with the pins, reading
each action.yml from GitHub; the tests fail while the two disagree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
METADATA = ROOT / "tests" / "data" / "action-metadata.json"


def entry(definition: dict, sha: str) -> dict:
    """One action's record: its inputs (required? defaulted?) and outputs, at `sha`."""
    return {
        "sha": sha,
        "inputs": {
            name: {"required": bool(spec.get("required")), "default": "default" in spec}
            for name, spec in (definition.get("inputs") or {}).items()
        },
        "outputs": sorted(definition.get("outputs") or {}),
    }


def metadata(directory: Path) -> dict[str, dict]:
    shas = {entry["action"]: entry["sha"] for entry in json.loads((directory / "INDEX.json").read_text("utf-8"))}
    found = {}
    for path in sorted(directory.rglob("action.y*ml")):
        action = path.parent.relative_to(directory).as_posix()
        owner_repo = "/".join(action.split("/")[:2])
        found[action] = entry(yaml.safe_load(path.read_text("utf-8")), shas[owner_repo])
    return found


def write(found: dict[str, dict]) -> None:
    METADATA.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", "utf-8")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    write(metadata(Path(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
