#!/usr/bin/env python3
"""Refresh github-actions-pins.json: each action's latest release, pinned to the commit it tags;
with it tests/data/action-metadata.json (each action's inputs and outputs, read from its action.yml
at the new pin), the template's own workflows (.github/workflows/, which name SHAs themselves) and,
in tool-pins.json, kubectl (the stable release and its published SHA-256s).

    python -m scripts.refresh_pins                    # every action in the file
    python -m scripts.refresh_pins owner/repo ...     # only these (a new one is added)

It asks the GitHub REST API (set GITHUB_TOKEN for the higher rate limit) and dl.k8s.io. Read the
release notes of every bump in the diff before committing it: a pin is only as good as the review
behind it. For aquasecurity/trivy-action it also records the Trivy version that release installs
by default, which the generated workflows pin. What it cannot refresh (a pre-release, an action.yml
it cannot find, the tool pins no source here publishes) it keeps and names under "not refreshed".
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import yaml

from scripts import action_metadata

ROOT = Path(__file__).resolve().parents[1]
PINS_FILE = ROOT / "github-actions-pins.json"
TOOLS_FILE = ROOT / "tool-pins.json"
WORKFLOWS = ROOT / ".github" / "workflows"
# `uses: owner/repo[/path]@<sha> # vX.Y.Z` in the template's own workflows.
USES = re.compile(r"(?P<repo>[\w.-]+/[\w.-]+)(?P<path>(?:/[\w./-]+)?)@[0-9a-f]{40} # v\S+")
API = "https://api.github.com"
RAW = "https://raw.githubusercontent.com"
KUBERNETES = "https://dl.k8s.io/release"
# tool-pins.json entries nothing here can refresh, and why.
BY_HAND = {
    "buildkit": "an image digest on Docker Hub, which this script does not read",
    "codecov-cli": "a release this script does not read",
    "gcloud": "a Cloud SDK release this script does not read",
    "uv": "must equal requirements-dev.txt's uv: bump both, with the hashes of uv's PyPI files",
}
STABLE = re.compile(r"^v\d+\.\d+\.\d+$")
TRIVY_ACTION = "aquasecurity/trivy-action"

# Fetch a URL and return its body (NotFound for a 404); injected so the parsing is tested on
# recorded answers.
Fetch = Callable[[str], str]


class PinError(RuntimeError):
    """A release that cannot be pinned automatically; the message says why."""


class NotFound(LookupError):
    """The URL names nothing (HTTP 404)."""


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


def repin(workflow: str, pins: dict) -> str:
    """A workflow with each action at its pin: `owner/repo[/path]@<sha> # <version>`."""

    def pinned(match: re.Match) -> str:
        pin = pins[match["repo"]]
        return f"{match['repo']}{match['path']}@{pin['sha']} # {pin['version']}"

    return USES.sub(pinned, workflow)


def action_definition(fetch: Fetch, action: str, sha: str) -> dict:
    """An action's action.yml (or action.yaml) at `sha`; `action` is owner/repo[/path]."""
    owner, repo, *path = action.split("/")
    for name in ("action.yml", "action.yaml"):
        try:
            return yaml.safe_load(fetch("/".join([RAW, owner, repo, sha, *path, name])))
        except NotFound:
            continue
    raise PinError(f"{action}: no action.yml at {sha}")


def refresh_metadata(metadata: dict, pins: dict, fetch: Fetch) -> tuple[dict, list[str]]:
    """The metadata of every pinned action at its pin, and what could not be read (kept as it was).
    A repository's actions are those the metadata knows (github/codeql-action/init, ...), or the
    repository itself for a new pin; an entry whose repository is no longer pinned goes."""
    fresh, missed = {}, []
    for repo, entry in pins.items():
        actions = [a for a in metadata if a == repo or a.startswith(f"{repo}/")] or [repo]
        for action in actions:
            if metadata.get(action, {}).get("sha") == entry["sha"]:
                fresh[action] = metadata[action]
                continue
            try:
                fresh[action] = action_metadata.entry(action_definition(fetch, action, entry["sha"]), entry["sha"])
            except PinError as error:
                missed.append(str(error))
                if action in metadata:
                    fresh[action] = metadata[action]
    return dict(sorted(fresh.items())), missed


def refresh_kubectl(fetch: Fetch) -> dict:
    """kubectl's stable release and the SHA-256 dl.k8s.io publishes per runner architecture."""
    version = fetch(f"{KUBERNETES}/stable.txt").strip()
    return {
        "version": version,
        "sha256": {
            arch: fetch(f"{KUBERNETES}/{version}/bin/linux/{name}/kubectl.sha256").strip().split()[0]
            for arch, name in (("X64", "amd64"), ("ARM64", "arm64"))
        },
    }


def github(url: str) -> str:
    request = urllib.request.Request(url, headers={"Accept": "application/vnd.github+json"})
    if url.startswith(API) and (token := os.environ.get("GITHUB_TOKEN")):
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - fixed https URLs
            return response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        if error.code == 404:
            raise NotFound(url) from error
        raise


def write_json(path: Path, data: dict, indent: int) -> None:
    path.write_text(json.dumps(data, indent=indent) + "\n", "utf-8")


def main(argv: list[str]) -> int:
    pins = json.loads(PINS_FILE.read_text("utf-8"))
    metadata = json.loads(action_metadata.METADATA.read_text("utf-8"))
    tools = json.loads(TOOLS_FILE.read_text("utf-8"))
    fresh, missed = dict(pins), []
    try:  # everything asked before anything is written: a failure leaves the files as they were
        for repo in argv or pins:
            try:
                fresh = refresh(fresh, github, [repo])
            except PinError as error:
                missed.append(str(error))
        fresh_metadata, unread = refresh_metadata(metadata, fresh, github)
        kubectl = refresh_kubectl(github)
    except urllib.error.URLError as error:  # also an HTTP error (403: the API's rate limit)
        print(f"error: {error.reason}; nothing changed", file=sys.stderr)
        return 1

    for repo, entry in fresh.items():
        if pins.get(repo) != entry:
            print(f"{repo}: {pins.get(repo, {}).get('version', 'new')} -> {entry['version']}")
    if fresh_metadata != metadata:
        print(f"{action_metadata.METADATA.relative_to(ROOT)}: {len(fresh_metadata)} actions at their pins")
    if kubectl != tools["kubectl"]:
        print(f"kubectl: {tools['kubectl']['version']} -> {kubectl['version']}")
    write_json(PINS_FILE, fresh, 2)
    action_metadata.write(fresh_metadata)
    for workflow in sorted(WORKFLOWS.glob("*.yml")):
        workflow.write_text(repin(workflow.read_text("utf-8"), fresh), "utf-8")
    write_json(TOOLS_FILE, {**tools, "kubectl": kubectl}, 2)
    missed += unread + [f"{name} in {TOOLS_FILE.name}: {why}" for name, why in BY_HAND.items()]
    print("not refreshed:" + "".join(f"\n- {line}" for line in missed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
