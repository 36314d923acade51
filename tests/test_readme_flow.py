"""The generated README runs as written: its "Run it" and "Test it" blocks, in order, for pip and
for uv + ruff, with only a suitable `python` (and git) on PATH. A README edit that breaks a step,
or a step the README forgets to tell the reader, fails here.

The template's CI runs the same flow on Windows and macOS (tests/readme_flow.py)."""

import subprocess

import pytest
import readme_flow
import yaml
from helpers import ROOT, bake, find_python, run

# .python-version is the newest answered version: one this machine has, as uv may not download.
PYTHONS = "3.12, 3.13"
FLOWS = [
    pytest.param({}, id="defaults"),
    pytest.param({"package_manager": "uv", "code_style": "ruff", "error_tracking": "sentry"}, id="uv-ruff"),
]


def newcomer(project, tmp_path, python_version: str):
    python = readme_flow.fresh_python(find_python([python_version]), tmp_path / "python")
    return python, readme_flow.clean_environment(python, tmp_path)


@pytest.mark.slow
@pytest.mark.sample(1)
@pytest.mark.parametrize("answers", FLOWS)
def test_the_readme_runs_as_written(cookies, tmp_path, answers):
    project = bake(cookies, python_versions=PYTHONS, **answers)
    _, env = newcomer(project, tmp_path, "3.13")
    readme = project.text("README.md")

    ran = readme_flow.run_sections(project.path, readme, readme_flow.SECTIONS, env, project.path.name)

    assert any("tasks.py dev" in line for line in ran) and any("tasks.py lint" in line for line in ran)
    # The environment runs the Python of the image, as .python-version says.
    venv_python = project.path / ".venv/bin/python"
    version = run([str(venv_python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], project.path)
    assert version.stdout.strip() == project.text(".python-version").strip() == "3.13"
    # The first commit went through the pre-commit hook (tasks.py lint) and left .env out.
    log = run(["git", "log", "--format=%s"], project.path, env=env).stdout.splitlines()
    assert len(log) == 1
    tracked = run(["git", "ls-files"], project.path, env=env).stdout.splitlines()
    assert ".env.example" in tracked and ".env" not in tracked and not any(".venv" in t for t in tracked)
    hook = run(["git", "rev-parse", "--git-path", "hooks/pre-commit"], project.path, env=env).stdout.strip()
    assert "tasks.py lint" in (project.path / hook).read_text()


def test_the_hook_stops_a_commit_that_fails_the_lint(cookies, tmp_path):
    project = bake(cookies, python_versions=PYTHONS)
    _, env = newcomer(project, tmp_path, "3.13")
    run(["python", "tasks.py", "init"], project.path, env=env)
    hook = run(["git", "rev-parse", "--git-path", "hooks/pre-commit"], project.path, env=env).stdout.strip()
    # No .venv: tasks.py lint runs with the newcomer's bare Python, which has no black.
    result = subprocess.run(["sh", hook], cwd=project.path, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "No module named black" in result.stderr


@pytest.mark.long
def test_an_old_python_is_refused_before_anything_is_installed(cookies, tmp_path):
    """The pip flow on a Python older than requires-python: one clear line, not 60 packages
    installed and then pip's resolver error."""
    project = bake(cookies, python_versions="3.13")  # 3.12, which the template's CI has, is too old
    _, env = newcomer(project, tmp_path, "3.12")
    run(["python", "-m", "venv", ".venv"], project.path, env=env)
    result = subprocess.run(
        ["python", "tasks.py", "install"], cwd=project.path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "is Python 3.12; the project needs 3.13+" in result.stderr
    assert "pip install" not in result.stderr  # where tasks.py echoes its commands


def test_the_template_ci_runs_the_flow_on_windows_and_macos():
    job = yaml.safe_load((ROOT / ".github/workflows/template.yml").read_text("utf-8"))["jobs"]["readme"]
    assert set(job["strategy"]["matrix"]["os"]) == {"windows-latest", "macos-latest"}
    flows = {item["flow"]: item["answers"] for item in job["strategy"]["matrix"]["include"]}
    assert flows == {"defaults": "", "uv-ruff": "package_manager=uv code_style=ruff"}
    runs = [step.get("run", "") for step in job["steps"]]
    assert any(run.startswith("python tests/readme_flow.py build/flask-service ") for run in runs)
