"""release.yml of baked projects, its steps run with stand-in docker and gh: the tags a version
gets, the image its commit already has (never rebuilt), its provenance, the GitHub release; and
the attack path of issue 11 (tag an unreviewed commit, then deploy its digest by hand), stopped."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers import bake
from workflow_steps import COMMIT, DIGEST, IMAGE, certificate, fake_commands, run_step, step, verify_provenance

# docker buildx imagetools: `inspect REF` prints what docker prints for the images in $IMAGES
# (one "ref digest" a line), or fails as docker does; `create` is logged.
FAKE_DOCKER = """#!{python}
import os, sys

args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(" ".join(["docker", *args]) + "\\n")
if args[:3] == ["buildx", "imagetools", "inspect"]:
    images = dict(line.split() for line in open(os.environ["IMAGES"]).read().splitlines())
    if args[3] not in images:
        sys.exit(f"ERROR: {{args[3]}}: not found")
    print(f"Name:      {{args[3]}}\\nMediaType: application/vnd.oci.image.index.v1+json\\nDigest:    {{images[args[3]]}}")
"""
FAKE_GH = """#!/usr/bin/env bash
printf 'gh' >> "$FAKE_LOG"; printf ' %q' "$@" >> "$FAKE_LOG"; echo >> "$FAKE_LOG"
"""


@pytest.fixture
def released(cookies, tmp_path):
    """A baked project in a git repository, stand-in docker and gh on PATH; returns (project, run)."""
    project = bake(cookies, environments="staging:develop, production:main")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=project.path, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "first"], cwd=project.path, check=True)
    fakes = fake_commands(tmp_path / "bin", {"docker": FAKE_DOCKER.format(python=sys.executable), "gh": FAKE_GH})
    log, images = tmp_path / "log", tmp_path / "images"
    log.write_text("")
    images.write_text(f"{IMAGE}:sha-{COMMIT[:7]} {DIGEST}\n")

    def run(name, env, tags=(), check=True):
        for tag in tags:
            subprocess.run([*git, "tag", tag], cwd=project.path, check=True)
        script = step(project, "release.yml", "release", name=name)["run"]
        base = {
            "PATH": f"{fakes}{os.pathsep}{os.environ['PATH']}",
            "FAKE_LOG": str(log),
            "IMAGES": str(images),
            "IMAGE": IMAGE,
            "COMMIT": COMMIT,
        }
        result, outputs = run_step(project, script, {**base, **env}, tmp_path, check=check)
        return result, outputs, log.read_text().splitlines()

    return project, run


@pytest.mark.parametrize(
    ("existing", "tag", "tags", "latest"),
    [
        pytest.param(["v1.0.0", "v1.1.0"], "v1.2.0", "v1.2.0 1.2 latest", "true", id="newest"),
        pytest.param(["v1.9.0"], "v1.10.0", "v1.10.0 1.10 latest", "true", id="compared-as-versions"),
        pytest.param(["v1.1.0", "v1.2.0"], "v1.1.1", "v1.1.1 1.1", "false", id="fix-of-an-older-line"),
        pytest.param(["v1.1.0", "v1.1.1", "v1.2.0"], "v1.1.0", "v1.1.0", "false", id="old-one-again"),
        pytest.param(["v1.2.0"], "v1.3.0-rc.1", "v1.3.0-rc.1", "false", id="pre-release"),
    ],
)
def test_a_version_tags_its_line_and_latest_only_when_newest(released, existing, tag, tags, latest):
    _, run = released
    result, outputs, _ = run("Choose the version's tags", {"TAG": tag}, tags=dict.fromkeys([*existing, tag]))
    assert outputs == {"tags": tags, "latest": latest, "prerelease": str(tag.endswith("rc.1")).lower()}


@pytest.mark.parametrize("tag", ["v1.2", "1.2.3", "v1.2.3.4", "vx.y.z", "v1.2.3 latest"])
def test_a_tag_that_is_no_version_releases_nothing(released, tag):
    _, run = released
    result, outputs, _ = run("Choose the version's tags", {"TAG": tag}, check=False)
    assert result.returncode == 1 and "is not a release tag" in result.stdout and outputs == {}


def test_the_image_built_from_the_commit_is_tagged_never_rebuilt(released, tmp_path):
    project, run = released
    result, _, _ = run("Find the image built from this commit", {})
    assert (tmp_path / "runner" / "env").read_text() == f"DIGEST={DIGEST}\n"
    _, _, log = run("Tag the image with the version", {"DIGEST": DIGEST, "TAGS": "v1.2.0 1.2 latest"})
    assert log[-1] == (
        f"docker buildx imagetools create --tag {IMAGE}:v1.2.0 --tag {IMAGE}:1.2 --tag {IMAGE}:latest {IMAGE}@{DIGEST}"
    )
    env = {"TAG": "v1.2.0", "DIGEST": DIGEST, "TAGS": "v1.2.0 1.2 latest", "LATEST": "true", "PRERELEASE": "false"}
    _, _, log = run("Create the GitHub release", env)
    notes = f"Image:\\ \\`{IMAGE}@{DIGEST}\\`\\,\\ tagged\\ v1.2.0\\,\\ 1.2\\,\\ latest"
    assert log[-1] == (
        f"gh release create v1.2.0 --verify-tag --title v1.2.0 --generate-notes --notes {notes} --latest=true"
    )
    _, _, log = run("Create the GitHub release", {**env, "TAG": "v1.3.0-rc.1", "LATEST": "false", "PRERELEASE": "true"})
    assert log[-1].endswith("--latest=false --prerelease")


def test_the_attack_path_stops_at_named_steps(released, tmp_path):
    """Issue 11: `git tag v9.9.9 <unreviewed commit>`, push it, then dispatch "Manual deploy" with a
    digest. Each way in stops at a step that says why."""
    project, run = released
    ci = project.yaml(".github/workflows/ci.yml")
    # 1. The tag builds nothing: ci.yml runs on no tag, and `build` only on a deploy branch's push.
    assert "tags" not in ci[True]["push"] and "github.event_name == 'push' &&" in ci["jobs"]["build"]["if"]
    # 2. release.yml finds no image for a commit no deploy branch built: "Find the image built from this commit".
    unreviewed = "badc0ffee" + "0" * 31
    result, _, _ = run("Find the image built from this commit", {"COMMIT": unreviewed}, check=False)
    assert result.returncode == 1
    assert (
        f"::error::no image {IMAGE}:sha-badc0ff: ci.yml builds images only on pushes to develop and main"
        in result.stdout
    )
    # 3. An image pushed by hand under that tag, or built by a workflow on an unreviewed branch, fails
    #    "Verify the image's provenance": in release.yml, and in deploy.yml before any approval,
    #    whichever workflow (ci.yml or manual-deploy.yml) calls it.
    for workflow, job in [("release.yml", "release"), ("deploy.yml", "check")]:
        for certificates in ([], [certificate(ref="refs/heads/unreviewed", commit=unreviewed)]):
            refused = verify_provenance(project, tmp_path, workflow, job, certificates, unreviewed)
            assert refused.returncode == 1 and "::error::" in refused.stdout, (workflow, certificates)
    # 4. A copy of manual-deploy.yml without the check, dispatched from another branch, reaches no
    #    environment: each takes deploys from its own branch only (scripts/setup_github.sh, tested
    #    in test_setup_github.py), and only admins may create v* tags (the tag ruleset).
    manual = project.yaml(".github/workflows/manual-deploy.yml")["jobs"]["deploy"]
    assert manual["uses"] == "$/.github/workflows/deploy.yml"
