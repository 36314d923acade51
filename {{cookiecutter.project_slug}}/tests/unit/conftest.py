"""Fixtures of the unit tests: the app, its test client, and local HTTP servers. The
integration tests serve the app for real and import none of it."""

import threading
from http.server import ThreadingHTTPServer

import pytest

from {{ cookiecutter.package_name }} import create_app


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
