#!/usr/bin/env python3
"""Refresh github-actions-pins.json: each action's latest release, pinned to the commit it tags.

    python scripts/refresh_pins.py                      # every action in the file
    python scripts/refresh_pins.py owner/repo ...       # only these (a new one is added)

It asks the GitHub REST API (set GITHUB_TOKEN for the higher rate limit). Read the release notes
of every bump in the diff before committing it: a pin is only as good as the review behind it.
For aquasecurity/trivy-action it also records the Trivy version that release installs by default,
which the generated workflows pin.
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

import yaml

PINS_FILE = Path(__file__).resolve().parents[1] / "github-actions-pins.json"
API = "https://api.github.com"
RAW = "https://raw.githubusercontent.com"
STABLE = re.compile(r"^v\d+\.\d+\.\d+$")
TRIVY_ACTION = "aquasecurity/trivy-action"

# Fetch a URL path and return its body; injected so the parsing is tested on recorded answers.
Fetch = Callable[[str], str]


class PinError(RuntimeError):
    """A release that cannot be pinned automatically; the message says why."""


def latest_release(fetch: Fetch, repo: str) -> tuple[str, str]:
    """The latest release's tag and the day it was published."""
    release = json.loads(fetch(f"{API}/repos/{repo}/releases/latest"))
    tag = release["tag_name"]
    if not STABLE.match(tag) or release.get("prerelease") or release.get("draft"):
        raise PinError(f"{repo}: the latest release {tag!r} is not a stable vX.Y.Z tag; pin it by hand")
    return tag, release["published_at"][:10]


def commit_of_tag(fetch: Fetch, repo: str, tag: str) -> str:
    """The commit a tag points to, following annotated tags (tag objects) to their commit."""
    target = json.loads(fetch(f"{API}/repos/{repo}/git/ref/tags/{tag}"))["object"]
    for _ in range(5):  # a tag of a tag of ... is legal, but not endless
        if target["type"] == "commit":
            return target["sha"]
        if target["type"] != "tag":
            raise PinError(f"{repo}: tag {tag} points to a {target['type']}, not a commit")
        target = json.loads(fetch(f"{API}/repos/{repo}/git/tags/{target['sha']}"))["object"]
    raise PinError(f"{repo}: tag {tag} is nested too deep")


def trivy_default(fetch: Fetch, sha: str) -> str:
    """The Trivy version trivy-action installs at this commit (its `version` input's default)."""
    action = yaml.safe_load(fetch(f"{RAW}/{TRIVY_ACTION}/{sha}/action.yaml"))
    return action["inputs"]["version"]["default"]


def pin(fetch: Fetch, repo: str) -> dict[str, str]:
    tag, published = latest_release(fetch, repo)
    entry = {"version": tag, "sha": commit_of_tag(fetch, repo, tag), "tagged": published}
    if repo == TRIVY_ACTION:
        entry["trivy"] = trivy_default(fetch, entry["sha"])
    return entry


def refresh(pins: dict, fetch: Fetch, only: list[str] | None = None) -> dict:
    """The pins with `only` (default: all) refreshed, sorted as the file keeps them."""
    fresh = {**pins, **{repo: pin(fetch, repo) for repo in (only or pins)}}
    return dict(sorted(fresh.items()))


def github(url: str) -> str:
    request = urllib.request.Request(url, headers={"Accept": "application/vnd.github+json"})
    if token := os.environ.get("GITHUB_TOKEN"):
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - fixed https URLs
        return response.read().decode("utf-8")


def main(argv: list[str]) -> int:
    pins = json.loads(PINS_FILE.read_text("utf-8"))
    try:
        fresh = refresh(pins, github, argv or None)
    except PinError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for repo, entry in fresh.items():
        if pins.get(repo) != entry:
            print(f"{repo}: {pins.get(repo, {}).get('version', 'new')} -> {entry['version']}")
    PINS_FILE.write_text(json.dumps(fresh, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
