"""`python tasks.py pin-images` in baked projects, with a stand-in `docker buildx imagetools` (or
`crane`): every base image of each Dockerfile shape gets a digest beside its tag, the result still
passes hadolint, and Dependabot's docker updates keep tag and digest fresh from then on."""

from __future__ import annotations

import os
import re
import sys

import pytest
from helpers import bake
from workflow_steps import fake_commands

DIGESTS = {"python:3.13-slim-trixie": "1", "python:3.14-slim": "2", "gcr.io/distroless/python3-debian13:nonroot": "3"}
# `docker buildx imagetools inspect IMAGE` prints a Digest line; `crane digest IMAGE` the digest.
FAKE = """#!/usr/bin/env bash
case "${argument}" in
{cases}
  *) echo "ERROR: ${argument}: not found" >&2; exit 1 ;;
esac
"""
SHOWN = {"docker": ("4", "Digest:    "), "crane": ("2", "")}


def fakes(tmp_path, tool, digests=DIGESTS):
    argument, prefix = SHOWN[tool]
    cases = "\n".join(f'  {image}) echo "{prefix}sha256:{digit * 64}" ;;' for image, digit in digests.items())
    return fake_commands(tmp_path / "bin", {tool: FAKE.format(argument=argument, cases=cases)})


@pytest.mark.parametrize(("base", "tool"), [("slim", "docker"), ("distroless", "crane")])
def test_pin_images_pins_every_base_image_by_digest(cookies, tmp_path, base, tool):
    project = bake(cookies, container_base=base, python_versions="3.13, 3.14" if base == "slim" else "3.13")
    before = project.text("Dockerfile")
    path = f"{fakes(tmp_path, tool)}{os.pathsep}{os.path.dirname(sys.executable)}{os.pathsep}/usr/bin:/bin"
    env = {"PATH": path}
    project.run_task("pin-images", env=env)
    after = project.text("Dockerfile")
    froms = re.findall(r"^FROM (\S+)", after, re.MULTILINE)
    assert froms and all(re.fullmatch(r"[^@\s]+:[^@\s]+@sha256:[0-9a-f]{64}", image) for image in froms), froms
    assert [image.split("@")[0] for image in froms] == re.findall(r"^FROM (\S+)", before, re.MULTILINE)
    assert all(f"sha256:{DIGESTS[image.split('@')[0]] * 64}" in image for image in froms)
    # Everything else is as it was, and hadolint still has nothing to say.
    assert re.sub(r"@sha256:[0-9a-f]{64}", "", after) == before
    project.run("hadolint", "Dockerfile")
    # Pinned again later: the digests move, nothing else does.
    fakes(tmp_path, tool, {image: "9" for image in DIGESTS})
    project.run_task("pin-images", env=env)
    assert re.sub(r"@sha256:9{64}", "", project.text("Dockerfile")) == before
    assert "package-ecosystem: docker" in project.text(".github/dependabot.yml")


def test_pin_images_changes_nothing_when_an_image_cannot_be_resolved(cookies, tmp_path):
    project = bake(cookies)  # python:3.14-slim, which this stand-in docker does not know
    bin_dir = fakes(
        tmp_path, "docker", {image: digit for image, digit in DIGESTS.items() if image != "python:3.14-slim"}
    )
    before = project.text("Dockerfile")
    result = project.run_task("pin-images", env={"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin"}, check=False)
    assert result.returncode == 1 and "python:3.14-slim: not found" in result.stderr
    assert project.text("Dockerfile") == before
