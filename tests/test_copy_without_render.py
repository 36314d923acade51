"""`_copy_without_render` lists exactly the project files with no Jinja, and copying them gives the
same project as rendering them. scripts/copy_without_render.py keeps the list (--write)."""

import filecmp
import runpy
import subprocess
import sys

import pytest
from helpers import ROOT

SCRIPT = ROOT / "scripts" / "copy_without_render.py"
has_jinja = runpy.run_path(str(SCRIPT))["has_jinja"]


def test_the_list_is_exactly_the_files_without_jinja():
    # Fails when a listed file gains Jinja or an unlisted one loses it, and prints the right list.
    result = subprocess.run(
        [sys.executable, "-m", "scripts.copy_without_render", "--check"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("plain: text\n", False, id="plain"),
        pytest.param("if: ${{ github.ref == 'x' }}\nrun: echo ${{ matrix.os }}\n", False, id="github-expressions"),
        pytest.param("name: {{ cookiecutter.project_slug }}\n", True, id="expression"),
        pytest.param("{% if x %}a{% endif %}\n", True, id="tag"),
        pytest.param("a {# note #}\n", True, id="comment"),
        pytest.param('echo "${#items[@]}"\n', True, id="shell-length-is-a-jinja-comment"),
        pytest.param("{% raw %}{{ kept }}{% endraw %}\n", True, id="explicit-raw-block"),
        pytest.param("run: ${{ github.sha }} {{ cookiecutter.version }}\n", True, id="both"),
    ],
)
def test_has_jinja(source, expected):
    assert has_jinja(source) is expected


def test_copying_gives_the_same_files_as_rendering(baked):
    copied = baked()
    rendered = baked(_copy_without_render=["*/__environment__"])
    files = sorted(p.relative_to(copied.path) for p in copied.files())
    assert files == sorted(p.relative_to(rendered.path) for p in rendered.files())
    _, different, errors = filecmp.cmpfiles(copied.path, rendered.path, files, shallow=False)
    assert not different and not errors, different + errors
