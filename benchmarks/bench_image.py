"""Image size and build times of the generated project, per container_base and package_manager.

    .venv/bin/python -m benchmarks.bench_image

Builds with the engine the container tests use (docker, else podman with stand-in base images
where the real ones cannot be pulled; the output says which). Python 3.13 on both bases, so
they compare like for like. Per combination:
  cold    no layer cache and empty build-cache mounts (podman; docker keeps its cache mounts,
          `docker builder prune` first for those); base images already present
  code    rebuild after a change to the service's code: the dependency layers are reused
  again   rebuild with nothing changed
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The tests' container engine, whose modules import each other by their own names.
sys.path.insert(0, str(ROOT / "tests"))

from container_engine import Engine, base_images, engine  # noqa: E402
from cookiecutter.main import cookiecutter  # noqa: E402
from helpers import CHOICES  # noqa: E402

STANDIN_LABEL = "flask-cicd.stand-in"
ANSWERS = {"python_versions": "3.12, 3.13", "deploy_target": "none"}


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def image_size(containers: Engine, tag: str) -> int:
    return int(containers("image", "inspect", "--format", "{{.Size}}", tag).stdout)


def origin(containers: Engine, image: str) -> str:
    """What make_standin_images.sh labelled a stand-in as, else 'the real image'."""
    labels = json.loads(containers("image", "inspect", "--format", "{{json .Config.Labels}}", image).stdout)
    return (labels or {}).get(STANDIN_LABEL, "the real image")


def bench(containers: Engine, base: str, manager: str, workdir: Path) -> dict:
    project = Path(
        cookiecutter(
            str(ROOT),
            no_input=True,
            output_dir=str(workdir / f"{base}-{manager}"),
            extra_context={**ANSWERS, "container_base": base, "package_manager": manager},
        )
    )
    tag = f"localhost/flask-cicd-bench-{base}-{manager}:latest"
    containers.provide_base_images(project / "Dockerfile")
    # Empty build-cache mounts for the cold build: podman keeps them under TMPDIR.
    cold = Engine(containers.name, {**containers.env, "TMPDIR": tempfile.mkdtemp(dir=workdir)})
    result = {"cold": timed(lambda: cold.build(project, tag, {}, "--no-cache"))}
    service = next((project / "src").iterdir()) / "api.py"
    service.write_text(service.read_text("utf-8") + "\n# a change to the code\n", "utf-8")
    result["code"] = timed(lambda: cold.build(project, tag, {}))
    result["again"] = timed(lambda: cold.build(project, tag, {}))
    result["size"] = image_size(containers, tag)
    bases = base_images(project / "Dockerfile")
    result["base size"] = image_size(containers, bases[-1])  # the runtime stage's
    result["bases"] = {image: origin(containers, image) for image in bases}
    result["tag"] = tag
    return result


def main() -> None:
    containers = engine()
    print(f"engine: {containers.name}; Python 3.13 on both bases")
    rows = []
    with tempfile.TemporaryDirectory(dir=ROOT / ".cache") as workdir:
        for base in CHOICES["container_base"]:
            for manager in CHOICES["package_manager"]:
                result = bench(containers, base, manager, Path(workdir))
                rows.append((base, manager, result))
                for image, kind in result["bases"].items():
                    print(f"  {base}-{manager}: {image} is {kind}", flush=True)
                containers.remove_image(result["tag"])
    if containers.name == "podman":  # the benchmark's layers, in the tests' own store
        containers("image", "prune", "--force")
    print("\nsizes in MB (base: the runtime stage's base image; added: what the build puts on it)")
    print(
        f"{'container_base':<15}{'manager':<9}{'size':>7}{'base':>7}{'added':>7}{'cold s':>8}{'code s':>8}{'again s':>8}"
    )
    for base, manager, r in rows:
        size, base_size = r["size"] / 1e6, r["base size"] / 1e6
        print(
            f"{base:<15}{manager:<9}{size:>7.1f}{base_size:>7.1f}{size - base_size:>7.1f}"
            f"{r['cold']:>8.1f}{r['code']:>8.1f}{r['again']:>8.1f}"
        )


if __name__ == "__main__":
    main()
