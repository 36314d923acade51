import os
import random
import sys
from pathlib import Path

import pytest
from helpers import RENDERED_DEFAULTS, ROOT, UV_CACHE, Baked, Bakes, bake

# The tools the tests run (uv, actionlint, shellcheck, zizmor, hadolint...) are installed beside
# this interpreter, in .venv/bin, which need not be on PATH.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
# Never download a Python: the tests use the interpreters this machine has.
os.environ["UV_PYTHON_DOWNLOADS"] = "never"
# One uv cache for every project the tests install, the baked projects' own `uv sync` included.
os.environ.setdefault("UV_CACHE_DIR", str(UV_CACHE))


# The costliest parametrized tests (each installs a project or builds an image) are marked
# `sample(k)`: a run takes k of their cases, the same on every xdist worker (they inherit the seed
# from the first process), a different k on another day. FLASK_CICD_FULL=1 runs every case: the
# template's CI does, nightly and in the weekly refresh.
FULL = os.environ.get("FLASK_CICD_FULL") == "1"
os.environ.setdefault("FLASK_CICD_SAMPLE_SEED", str(random.randrange(2**32)))
SEED = int(os.environ["FLASK_CICD_SAMPLE_SEED"])


def pytest_report_header():
    if FULL:
        return "sampled tests: every case (FLASK_CICD_FULL=1)"
    return f"sampled tests: seed {SEED} (FLASK_CICD_SAMPLE_SEED={SEED} repeats it; FLASK_CICD_FULL=1 runs every case)"


def pytest_collection_modifyitems(config, items):
    if not FULL:
        sample(config, items)
    # The longest first: on 2 workers, a long test started last would end the run alone while the
    # other worker idles; started first, the short ones even out the end. Stable: otherwise as
    # collected, the same on every xdist worker.
    items.sort(
        key=lambda item: next(
            (rank for rank, mark in enumerate(LONGEST_FIRST) if item.get_closest_marker(mark)), len(LONGEST_FIRST)
        )
    )


# The marks of the long tests, longest first: an image build, a project installed, some 10 s.
LONGEST_FIRST = ("container", "slow", "long")


def sample(config, items):
    cases: dict[str, list] = {}
    for item in items:
        if item.get_closest_marker("sample"):
            cases.setdefault(item.nodeid.partition("[")[0], []).append(item)
    dropped = []
    for test, its_cases in sorted(cases.items()):
        k = its_cases[0].get_closest_marker("sample").args[0]
        kept = random.Random(f"{SEED}:{test}").sample(sorted(item.nodeid for item in its_cases), min(k, len(its_cases)))
        dropped += [item for item in its_cases if item.nodeid not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


@pytest.fixture(autouse=True, scope="session")
def _template_from_this_checkout(request):
    # pytest-cookies bakes the template named by --template, "." by default: make "." this checkout.
    request.config.option.template = str(ROOT)


@pytest.fixture(scope="session")
def baked(cookies_session) -> Bakes:
    """`baked(**answers)`: one bake per distinct set of answers for the whole session (per xdist
    worker), for tests that only read the project. A test that installs into the project, runs
    its tools there or changes its files bakes its own with `bake(cookies, **answers)`: the
    session ends in an error naming any shared bake a test changed."""
    bakes = Bakes(cookies_session)
    yield bakes
    assert not bakes.changed(), f"tests changed these shared bakes (answers -> files): {bakes.changed()}"


# The test-only WSGI module of `service`.
TEST_APP = f'''\
"""Test only, not shipped: the product's app with a slow route and one naming the worker."""

import os
import time

from flask import request

from {RENDERED_DEFAULTS["package_name"]} import metrics

# How often a worker writes its counts, for tests that need it never, before the app loads.
metrics.FLUSH_SECONDS = float(os.environ.get("TEST_FLUSH_SECONDS", metrics.FLUSH_SECONDS))

from {RENDERED_DEFAULTS["package_name"]}.wsgi import app


@app.get("/test/slow")
def slow():
    time.sleep(float(request.args["seconds"]))
    return {{"pid": os.getpid()}}


@app.get("/test/pid")
def pid():
    time.sleep(0.01)
    return {{"pid": os.getpid()}}
'''


@pytest.fixture(scope="session")
def service(cookies_session) -> Baked:
    """The default project installed with its runtime dependencies, for the tests that serve it:
    `service.serve()` runs TEST_APP (put in the environment's site-packages, not in the project),
    `service.serve(service.wsgi_app)` the project's own app."""
    project = bake(cookies_session)
    project.install(groups=())
    site_packages = project.run(project.python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    (Path(site_packages.stdout.strip()) / "test_app.py").write_text(TEST_APP, "utf-8")
    project.app = "test_app:app"
    return project
