"""The container engine for the image tests and benchmarks.

docker where its daemon answers (the template's GitHub CI); otherwise podman, set up for
machines like the template's own development box: runc, chroot builds, docker-format images
(they keep HEALTHCHECK), capped ulimits and storage of its own under .cache/podman/. Base
images that cannot be pulled are replaced by stand-ins (scripts/make_standin_images.sh).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from helpers import ROOT, run

PODMAN_HOME = ROOT / ".cache" / "podman"
STANDIN_SCRIPT = ROOT / "scripts" / "make_standin_images.sh"
ULIMITS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]
PODMAN_CONFIG = {
    "storage.conf": """\
[storage]
driver = "overlay"
graphroot = "{home}/storage"
runroot = "{home}/run"
""",
    "containers.conf": """\
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
""",
    # Short names resolve as docker resolves them.
    "registries.conf": """\
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
""",
}


@dataclass
class Engine:
    name: str
    env: dict = field(default_factory=dict)

    def __call__(self, *args, timeout: int = 900, cwd: Path = ROOT) -> subprocess.CompletedProcess:
        return run([self.name, *map(str, args)], cwd=cwd, env=self.env, timeout=timeout)

    def build(self, context: Path, tag: str, build_args: dict[str, str], *extra: str) -> None:
        """Build context/Dockerfile, making stand-ins first for base images it cannot pull."""
        self.provide_base_images(context / "Dockerfile")
        command = ["build", "-t", tag, *extra]
        if self.name == "podman":
            command += ["--isolation", "chroot", "--format", "docker", *ULIMITS]
        for name, value in build_args.items():
            command += ["--build-arg", f"{name}={value}"]
        self(*command, context, timeout=1800)

    def provide_base_images(self, dockerfile: Path) -> None:
        if self.name == "docker":
            return  # docker pulls what it needs: stand-ins are for offline podman machines
        run(["bash", str(STANDIN_SCRIPT), *base_images(dockerfile)], cwd=ROOT, env=self.env, timeout=1800)

    def inspect(self, what: str) -> dict:
        return json.loads(self("inspect", what).stdout)[0]

    def remove(self, *names: str) -> None:
        """Remove containers, quietly: for clean-up after a failure too."""
        self._quietly("rm", "--force", *names)

    def remove_image(self, *names: str) -> None:
        self._quietly("rmi", "--force", *names)

    def _quietly(self, *args: str) -> None:
        subprocess.run([self.name, *args], env={**os.environ, **self.env}, capture_output=True)


def base_images(dockerfile: Path) -> list[str]:
    """The images a Dockerfile's stages start FROM (not its own stages)."""
    stages: set[str] = set()
    images: list[str] = []
    text = dockerfile.read_text("utf-8")
    for image, alias in re.findall(r"^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", text, re.M | re.I):
        if image not in stages and image not in images:
            images.append(image)
        if alias:
            stages.add(alias)
    return images


def docker_works() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=60).returncode == 0


@functools.cache
def engine() -> Engine:
    if docker_works():
        return Engine("docker", {"DOCKER_BUILDKIT": "1"})
    PODMAN_HOME.mkdir(parents=True, exist_ok=True)
    for name, text in PODMAN_CONFIG.items():
        path = PODMAN_HOME / name
        content = text.format(home=PODMAN_HOME)
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
    (PODMAN_HOME / "tmp").mkdir(exist_ok=True)
    return Engine(
        "podman",
        {
            "CONTAINERS_STORAGE_CONF": str(PODMAN_HOME / "storage.conf"),
            "CONTAINERS_CONF": str(PODMAN_HOME / "containers.conf"),
            "CONTAINERS_REGISTRIES_CONF": str(PODMAN_HOME / "registries.conf"),
            # Build-cache mounts (pip's, uv's) live under TMPDIR: keep them between runs.
            "TMPDIR": str(PODMAN_HOME / "tmp"),
        },
    )


def wait_for(predicate, deadline: float, what: str, interval: float = 0.2):
    """Poll predicate() until it returns a true value; fail naming `what` after deadline s."""
    end = time.monotonic() + deadline
    last_error = None
    while time.monotonic() < end:
        try:
            if result := predicate():
                return result
        except OSError as error:
            last_error = error
        time.sleep(interval)
    raise AssertionError(f"{what} did not happen within {deadline}s (last error: {last_error})")
