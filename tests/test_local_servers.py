"""`python tasks.py dev` and `python tasks.py serve`, as the generated README runs them, on the
installed default project: each answers, and prints only what it should (gunicorn's stdout is JSON
lines, for whatever collects them; Flask finds nothing to say about the `.env` tasks.py reads)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess

import pytest
from helpers import free_port, wait_for_healthz

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("service")]


def run_until_answered(project, task: str, tmp_path, **environ: str) -> tuple[str, str]:
    """`python tasks.py TASK` on a free port until it answers GET /healthz, then stopped as Ctrl-C
    stops it: its (stdout, stderr)."""
    port = free_port()
    env = {name: value for name, value in os.environ.items() if name != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(PORT=str(port), **environ)
    out, err = tmp_path / f"{task}.out", tmp_path / f"{task}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        command = [str(project.python), "tasks.py", task]
        process = subprocess.Popen(
            command, cwd=project.path, env=env, stdout=stdout, stderr=stderr, start_new_session=True
        )
    try:
        wait_for_healthz(process, port, f"tasks.py {task}", err)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
    return out.read_text(), err.read_text()


def test_serve_prints_json_lines_only_on_stdout(service, tmp_path):
    stdout, stderr = run_until_answered(service, "serve", tmp_path, APP_ENV="production", SECRET_KEY="s")
    records = []
    for line in stdout.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"a line on serve's stdout is not JSON: {line!r}")
    assert any(record.get("path") == "/healthz" for record in records), "no access line: nothing proved"
    assert "$ python -m gunicorn" in stderr  # what tasks.py ran, as for every task


def test_dev_reads_dotenv_with_no_word_from_flask_about_it(service, tmp_path):
    dotenv = service.path / ".env"
    shutil.copy(service[".env.example"], dotenv)  # as the README does
    try:
        stdout, stderr = run_until_answered(service, "dev", tmp_path)
    finally:
        dotenv.unlink()
    assert "Debugger is active" in stdout + stderr  # Flask's debug server, and its own words
    assert "dotenv" not in stdout + stderr
