"""tasks.py: .env for local runs, the project's own interpreter for the tools."""

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tasks():
    spec = importlib.util.spec_from_file_location("tasks", PROJECT / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dotenv_lines(tasks, tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# a comment\n\nAPP_ENV=development\nexport LOG_LEVEL = debug\n"
        "CORS_ORIGINS='https://a.example'\nSECRET_KEY=\"a=b\"\nEMPTY=\n",
        "utf-8",
    )
    assert tasks.read_dotenv(dotenv) == {
        "APP_ENV": "development",
        "LOG_LEVEL": "debug",
        "CORS_ORIGINS": "https://a.example",
        "SECRET_KEY": "a=b",
        "EMPTY": "",
    }


def test_a_bad_dotenv_line_names_the_line(tasks, tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("APP_ENV=development\nnot a setting\n", "utf-8")
    with pytest.raises(SystemExit, match=r"\.env:2: expected NAME=value"):
        tasks.read_dotenv(dotenv)


def test_no_dotenv_is_no_settings(tasks, tmp_path):
    assert tasks.read_dotenv(tmp_path / ".env") == {}


def test_dev_and_serve_read_dotenv_and_the_environment_wins(tasks, monkeypatch):
    dotenv = {"PORT": "9000", "LOG_LEVEL": "X"}
    monkeypatch.setattr(tasks, "read_dotenv", lambda: dotenv)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("FLASK_RUN_PORT", raising=False)
    serve = tasks.local_environment("serve")
    assert (serve["PORT"], serve["LOG_LEVEL"]) == ("9000", "WARNING")
    dev = tasks.local_environment("dev")
    assert (dev["APP_ENV"], dev["FLASK_RUN_PORT"]) == ("development", "9000")
    assert tasks.local_environment("test-unit") is None  # tests never read .env


def test_tools_run_with_the_venv_python_when_there_is_one(tasks, monkeypatch, tmp_path):
    monkeypatch.setattr(tasks, "VENV_PYTHON", tmp_path / "python")
    assert tasks.python() == sys.executable
    (tmp_path / "python").touch()
    assert tasks.python() == str(tmp_path / "python")


def test_serve_listens_on_this_machine_only_unless_told(tasks, monkeypatch):
    monkeypatch.setattr(tasks, "read_dotenv", lambda: {"PORT": "9000"})
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    assert tasks.local_environment("serve")["GUNICORN_BIND"] == "127.0.0.1:9000"
    monkeypatch.setenv("GUNICORN_BIND", "0.0.0.0:9000")
    assert tasks.local_environment("serve")["GUNICORN_BIND"] == "0.0.0.0:9000"


def test_install_refuses_a_python_of_the_system(tasks, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(tasks, "VENV", tmp_path / ".venv")
    monkeypatch.setattr(tasks, "VENV_PYTHON", tmp_path / ".venv" / "bin" / "python")
    monkeypatch.setattr(sys, "prefix", sys.base_prefix)
    monkeypatch.delenv("CI", raising=False)
    assert tasks.check_python() == 1
    assert "No .venv here" in capsys.readouterr().err


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="init needs git")
def test_init_leaves_an_enclosing_repository_alone(tmp_path):
    outer = tmp_path / "monorepo"
    project = outer / "services" / "this"
    project.mkdir(parents=True)
    git("init", "-q", cwd=outer)
    (project / "tasks.py").write_text(
        (PROJECT / "tasks.py").read_text("utf-8"), "utf-8"
    )
    result = subprocess.run(
        [sys.executable, "tasks.py", "init"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "is inside the git repository" in result.stderr
    assert not (outer / ".git" / "hooks" / "pre-commit").exists()


@pytest.mark.skipif(os.name == "nt", reason="SIGTERM is sent only on POSIX")
def test_sigterm_to_tasks_py_stops_its_command(tmp_path):
    pid_file = tmp_path / "pid"
    command = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid()));"
        " time.sleep(60)"
    )
    runner = (
        f"import sys; sys.path.insert(0, {str(PROJECT)!r}); import tasks; "
        f"sys.exit(tasks.call([sys.executable, '-c', {command!r}], None))"
    )
    parent = subprocess.Popen([sys.executable, "-c", runner])
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the command did not start"
        time.sleep(0.01)
    parent.send_signal(signal.SIGTERM)
    parent.wait(timeout=10)  # it returns once its command has stopped
    child = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        for _ in range(500):  # reaped by then: its parent waited for it
            os.kill(child, 0)
            time.sleep(0.01)
