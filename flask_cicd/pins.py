"""The pinned actions and tools the generated workflows and image use, from their one place each."""

from __future__ import annotations

import json
import re

from flask_cicd.answers import ROOT

PINS = json.loads((ROOT / "github-actions-pins.json").read_text("utf-8"))
# The tools the generated workflows and image fetch at run time: version, and checksum or digest.
TOOLS = json.loads((ROOT / "tool-pins.json").read_text("utf-8"))
# The uv the template's own tests run is the uv a generated project's image installs.
UV_VERSION = re.search(r"^uv==(\S+)$", (ROOT / "requirements-dev.txt").read_text("utf-8"), flags=re.MULTILINE).group(1)


def uses(action: str) -> str:
    """'actions/checkout' -> 'actions/checkout@<sha> # v7.0.1', from github-actions-pins.json."""
    owner_repo = "/".join(action.split("/")[:2])
    pin = PINS[owner_repo]
    return f"{action}@{pin['sha']} # {pin['version']}"
