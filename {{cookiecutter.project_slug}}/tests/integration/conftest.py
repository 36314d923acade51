"""Serve the app with a real server on a free port: gunicorn with the project's own
configuration where it runs (Linux, macOS), werkzeug's server on Windows."""

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
COMMIT = "feedface"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base_url, deadline=15.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{base_url} did not answer within {deadline}s")


@pytest.fixture(scope="session")
def base_url():
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": "integration-tests",
        "GIT_COMMIT": COMMIT,
        "SHUTDOWN_DRAIN_SECONDS": "0",  # no load balancer to wait for at the end
    }
    if os.name == "nt":  # gunicorn does not run on Windows
        from werkzeug.serving import make_server

        os.environ.update(env)
        from {{ cookiecutter.package_name }} import create_app

        server = make_server("127.0.0.1", port, create_app(), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        wait_until_up(url)
        yield url
        server.shutdown()
        return

    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "{{ cookiecutter.package_name }}.wsgi:app",
    ]
    server = subprocess.Popen(command, cwd=PROJECT, env=env)
    try:
        wait_until_up(url)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
