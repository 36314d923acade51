"""scripts/pin_images.py: the Dockerfile's base images pinned by digest."""

import subprocess

import pin_images
import pytest

OLD, NEW = "sha256:" + "0" * 64, "sha256:" + "1" * 64
DOCKERFILE = f"""\
FROM python:3.13-slim AS builder
RUN echo build
FROM --platform=linux/amd64 gcr.io/distroless/cc:nonroot@{OLD} as runtime
COPY --from=builder /opt /opt
FROM builder AS test
FROM scratch
"""


def test_every_base_image_gets_its_digest_and_keeps_its_tag():
    asked = []
    pinned = pin_images.pin(DOCKERFILE, lambda image: asked.append(image) or NEW)
    assert asked == ["python:3.13-slim", "gcr.io/distroless/cc:nonroot"]
    assert pinned.splitlines() == [
        f"FROM python:3.13-slim@{NEW} AS builder",
        "RUN echo build",
        f"FROM --platform=linux/amd64 gcr.io/distroless/cc:nonroot@{NEW} as runtime",
        "COPY --from=builder /opt /opt",
        "FROM builder AS test",
        "FROM scratch",
    ]


def test_an_answer_that_is_no_digest_is_refused():
    with pytest.raises(pin_images.PinError, match=r"python:3\.13-slim: 'latest'"):
        pin_images.pin(DOCKERFILE, lambda image: "latest")


@pytest.mark.parametrize(
    ("tools", "stdout", "command"),
    [
        (
            ["docker", "crane"],
            f"Name:      docker.io/library/python:3.13-slim\nDigest:    {NEW}\n",
            ["docker", "buildx", "imagetools", "inspect"],
        ),
        (["crane"], NEW + "\n", ["crane", "digest"]),
    ],
)
def test_docker_first_then_crane(monkeypatch, tmp_path, tools, stdout, command):
    calls = []

    def fake_run(argv, **kwargs):
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 0, stdout, "")

    monkeypatch.setattr(
        pin_images.shutil, "which", lambda name: name if name in tools else None
    )
    monkeypatch.setattr(pin_images.subprocess, "run", fake_run)
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:3.13-slim\n")
    assert pin_images.main([str(dockerfile)]) == 0
    assert dockerfile.read_text() == f"FROM python:3.13-slim@{NEW}\n"
    assert calls[0][: len(command)] == command and "python:3.13-slim" in calls[0]


def test_without_a_tool_or_on_a_failure_nothing_is_written(
    monkeypatch, tmp_path, capsys
):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:3.13-slim\n")
    monkeypatch.setattr(pin_images.shutil, "which", lambda name: None)
    assert pin_images.main([str(dockerfile)]) == 1
    assert "needs docker (with buildx) or crane" in capsys.readouterr().err

    failed = subprocess.CompletedProcess([], 1, "", "unauthorized")
    monkeypatch.setattr(pin_images.shutil, "which", lambda name: name)
    monkeypatch.setattr(pin_images.subprocess, "run", lambda argv, **kwargs: failed)
    assert pin_images.main([str(dockerfile)]) == 1
    assert "unauthorized" in capsys.readouterr().err
    assert dockerfile.read_text() == "FROM python:3.13-slim\n"
