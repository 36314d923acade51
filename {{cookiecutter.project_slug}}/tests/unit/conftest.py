"""Fixtures of the unit tests: the app, its test client, local HTTP servers, and the
gunicorn worker of server.py with a socket pair to drive it by hand. The integration
tests serve the app for real and import none of it."""

import os
import selectors
import socket
import threading
from http.server import ThreadingHTTPServer

import pytest
from gunicorn import util
from gunicorn.config import Config
from gunicorn.glogging import Logger
from gunicorn.http import wsgi
from gunicorn.workers import gthread

from {{ cookiecutter.package_name }} import create_app
from {{ cookiecutter.package_name }}.server import Worker

from .raw_http import ADDRESS, App


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")
    monkeypatch.setenv("GIT_COMMIT", "0123abc")
    return create_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def serve():
    """Local HTTP servers for a test module: `serve(Handler)` answers with a request
    handler class on a free port (its address in `.url`) until the module is done."""
    servers = []

    def start(handler):
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.url = f"http://127.0.0.1:{server.server_port}"
        # Polling every 10 ms rather than every 0.5 s: shutdown() then returns at once.
        threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def worker(app, monkeypatch):
    # load_wsgi replaces these in the worker's process: put them back after the test.
    monkeypatch.setattr(util, "write_error", util.write_error)
    monkeypatch.setattr(wsgi, "Response", wsgi.Response)
    config = Config()
    worker = Worker(0, os.getpid(), [], App(app), 30, config, Logger(config))
    worker.poller = selectors.DefaultSelector()
    worker.load_wsgi()
    yield worker
    worker.poller.close()
    worker.tmp.close()


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    theirs.settimeout(5)
    yield gthread.TConn(Config(), ours, ADDRESS, ("127.0.0.1", 8000)), theirs
    ours.close()
    theirs.close()
