import os
import sys
from pathlib import Path

import pytest

from helpers import ROOT, UV_CACHE, Bakes, bake, project_venv
from served import TEST_APP

# The tools the tests run (uv, actionlint, shellcheck, zizmor, hadolint...) are installed beside
# this interpreter, in .venv/bin, which need not be on PATH.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
# Never download a Python: the tests use the interpreters this machine has.
os.environ["UV_PYTHON_DOWNLOADS"] = "never"
# One uv cache for every project the tests install, the baked projects' own `uv sync` included.
os.environ.setdefault("UV_CACHE_DIR", str(UV_CACHE))


@pytest.fixture(autouse=True, scope="session")
def _template_from_this_checkout(request):
    # pytest-cookies bakes the template named by --template, "." by default: make "." this checkout.
    request.config.option.template = str(ROOT)


@pytest.fixture(scope="session")
def baked(cookies_session) -> Bakes:
    """`baked(**answers)`: one bake per distinct set of answers for the whole session (per xdist
    worker), for tests that only read the project. A test that installs into the project, runs
    its tools there or changes its files bakes its own with `bake(cookies, **answers)`."""
    return Bakes(cookies_session)


@pytest.fixture(scope="session")
def service(cookies_session, tmp_path_factory):
    """The default project, the python of a venv with it installed, and a folder holding the
    test-only WSGI module."""
    project = bake(cookies_session)
    python = project_venv(project, tmp_path_factory.mktemp("venv"), groups=())
    extra = tmp_path_factory.mktemp("test-app")
    (extra / "test_app.py").write_text(TEST_APP, "utf-8")
    return project, python, extra
