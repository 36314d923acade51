"""Serve the app with a real server on a free port: gunicorn with the project's own
configuration where it runs (Linux, macOS), werkzeug's server on Windows."""

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
COMMIT = "feedface"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, what, deadline=15.0):
    """Until condition() is true, checking every 10 ms."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError(f"{what}: not within {deadline} s")
        time.sleep(0.01)


def wait_until_up(base_url):
    def answers():
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1):
                return True
        except OSError:
            return False

    wait_for(answers, f"{base_url}/healthz answered")


@dataclass
class Server:
    url: str
    port: int
    log: Path | None = None  # gunicorn's output, one JSON line each
    process: subprocess.Popen | None = None

    def log_lines(self):
        return self.log.read_text("utf-8").splitlines()

    def count(self, event):
        """How many lines of the log mention `event`."""
        return sum(event in line for line in self.log_lines())


ENV = {
    "APP_ENV": "production",
    "SECRET_KEY": "integration-tests",
    "GIT_COMMIT": COMMIT,
    "SHUTDOWN_DRAIN_SECONDS": "0",  # no load balancer to wait for at the end
}


@contextmanager
def gunicorn(log: Path, workers: int = 2, **environ):
    """gunicorn with the project's own configuration on a free port, until it stops."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "{{ cookiecutter.package_name }}.wsgi:app",
    ]
    env = {**os.environ, **ENV, **environ}
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=PROJECT, env=env, stdout=output, stderr=output
        )
    server = Server(f"http://127.0.0.1:{port}", port, log, process)
    try:
        wait_until_up(server.url)  # the first worker up
        wait_for(lambda: server.count("Booting worker") == workers, "all workers up")
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    if os.name == "nt":  # gunicorn does not run on Windows
        from werkzeug.serving import make_server

        os.environ.update(ENV)
        from {{ cookiecutter.package_name }} import create_app

        port = free_port()
        httpd = make_server("127.0.0.1", port, create_app(), threaded=True)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url)
        yield Server(url, port)
        httpd.shutdown()
        return

    with gunicorn(tmp_path_factory.mktemp("gunicorn") / "gunicorn.log") as server:
        yield server


@pytest.fixture(scope="session")
def base_url(server):
    return server.url
