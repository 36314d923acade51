"""Pin the Dockerfile's base images by digest: `python tasks.py pin-images`.

Each `FROM image:tag` (or `image:tag@sha256:...`, pinned before) gets the digest
that the tag names in its registry now, from `docker buildx imagetools inspect`
or, without docker, `crane digest`. The tag stays beside the digest, for the
reader and for Dependabot, which then proposes tag and digest together; docker
pulls by the digest. Review the diff like any other update.
"""

from __future__ import annotations

import re
import shutil
import subprocess  # nosec B404 - runs docker or crane with fixed arguments
import sys
from collections.abc import Callable
from pathlib import Path

# FROM [--platform=...] image[@sha256:...] [AS stage]
FROM = re.compile(
    r"^(?P<head>FROM\s+(?:--\S+\s+)*)(?P<image>[^\s@]+)(?:@sha256:[0-9a-f]{64})?"
    r"(?P<tail>(?:\s+AS\s+(?P<stage>\S+))?\s*)$",
    flags=re.IGNORECASE | re.MULTILINE,
)
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
Resolve = Callable[[str], str]


class PinError(RuntimeError):
    """An image that cannot be pinned; the message says which and why."""


def pin(dockerfile: str, resolve: Resolve) -> str:
    """The Dockerfile with every base image (not its own stages, not scratch) pinned."""
    stages: set[str] = set()

    def pinned(match: re.Match) -> str:
        image = match["image"]
        if match["stage"]:
            stages.add(match["stage"].lower())
        if image.lower() in stages or image == "scratch":
            return match[0]
        digest = resolve(image)
        if not DIGEST.fullmatch(digest):
            raise PinError(f"{image}: {digest!r} is not a sha256 digest")
        return f"{match['head']}{image}@{digest}{match['tail']}"

    return FROM.sub(pinned, dockerfile)


def run(command: list[str]) -> str:
    # docker or crane, with an image name from the Dockerfile as an argument: no shell.
    result = subprocess.run(  # noqa: S603  # nosec B603
        command, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise PinError(f"{' '.join(command)}: {result.stderr.strip() or 'failed'}")
    return result.stdout


def docker_digest(image: str) -> str:
    """The `Digest:` line of what docker prints about the image's manifest (list)."""
    shown = run(["docker", "buildx", "imagetools", "inspect", image])
    lines = [line.split() for line in shown.splitlines()]
    return next((words[1] for words in lines if words[:1] == ["Digest:"]), shown)


def crane_digest(image: str) -> str:
    return run(["crane", "digest", image]).strip()


def resolver() -> Resolve:
    """docker buildx where it is installed, else crane."""
    if shutil.which("docker"):
        return docker_digest
    if shutil.which("crane"):
        return crane_digest
    raise PinError("pinning needs docker (with buildx) or crane on PATH")


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else "Dockerfile")
    try:
        text = pin(path.read_text("utf-8"), resolver())
    except PinError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    path.write_text(text, "utf-8")
    for line in text.splitlines():
        if line.upper().startswith("FROM ") and "@sha256:" in line:
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
