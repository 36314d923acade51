"""The generated service served by the real gunicorn with its own gunicorn.conf.py, for the tests
that send it traffic. A test-only WSGI module adds a slow route and a route that names the worker,
to the very app the product serves."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from helpers import RENDERED_DEFAULTS

PACKAGE = RENDERED_DEFAULTS["package_name"]
TEST_APP = f'''\
"""Test only, not shipped: the product's app with a slow route and one naming the worker."""

import os
import time

from flask import request

from {PACKAGE}.wsgi import app


@app.get("/test/slow")
def slow():
    time.sleep(float(request.args["seconds"]))
    return {{"pid": os.getpid()}}


@app.get("/test/pid")
def pid():
    time.sleep(0.01)
    return {{"pid": os.getpid()}}
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path

    def request(self, method, path, body=None, headers=None, timeout=10.0):
        """(status, headers, body bytes); raises OSError when the connection fails."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def workers(self) -> set[int]:
        pid = self.process.pid
        return set(map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split()))


@contextmanager
def serve(service, **environ):
    """gunicorn with the project's gunicorn.conf.py and the test app, until it answers."""
    project, python, extra = service
    port = free_port()
    env = {
        **{name: value for name, value in os.environ.items() if name != "PROMETHEUS_MULTIPROC_DIR"},
        "APP_ENV": "production",
        "SECRET_KEY": "service-tests",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "3",
        "PYTHONPATH": str(extra),
        **environ,
    }
    log = extra / f"gunicorn-{port}.log"
    with log.open("wb") as output:
        command = [str(python), "-m", "gunicorn", "-c", "gunicorn.conf.py", "test_app:app"]
        process = subprocess.Popen(command, cwd=project.path, env=env, stdout=output, stderr=output)
    server = Server(process, port, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"gunicorn exited early:\n{log.read_text()[-3000:]}"
            try:
                if server.request("GET", "/readyz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"gunicorn did not get ready:\n{log.read_text()[-3000:]}"
            time.sleep(0.05)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
