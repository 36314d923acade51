import json
import logging
import os
import warnings

import pytest
import structlog

from {{ cookiecutter.package_name }}.logs import REQUEST_ID
from {{ cookiecutter.package_name }}.per_request import PerRequest
from {{ cookiecutter.package_name }}.request_id import random_bits


def test_a_request_id_is_made_when_none_is_given(client):
    request_id = client.get("/healthz").headers["X-Request-ID"]
    assert len(request_id) == 32


@pytest.mark.skipif(not hasattr(os, "fork"), reason="Windows does not fork")
def test_a_forked_worker_makes_ids_of_its_own():
    # gunicorn's master imports the app's modules (its hooks do), then forks workers.
    reading, writing = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # other tests' threads
        pid = os.fork()
    if pid == 0:  # the worker
        try:
            os.write(writing, random_bits(128).to_bytes(16, "big"))
        finally:
            os._exit(0)
    os.close(writing)
    theirs = os.read(reading, 16)
    os.close(reading)
    os.waitpid(pid, 0)
    assert theirs != random_bits(128).to_bytes(16, "big")


def test_a_sane_request_id_is_kept(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"


def test_an_unsafe_request_id_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-ID": "a b\tc" * 50})
    assert response.headers["X-Request-ID"] != "a b\tc" * 50


def test_logs_are_json_lines_with_the_request_id(capsys, app, client):
    @app.get("/log")
    def log_something():
        structlog.get_logger("test").info("hello", answer=42)
        logging.getLogger("plain").warning("from stdlib")
        return {}

    client.get("/log", headers={"X-Request-ID": "req-1"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {"event": "hello", "answer": 42, "request_id": "req-1"}.items() <= lines[
        0
    ].items()
    assert lines[1]["event"] == "from stdlib"
    assert lines[1]["level"] == "warning"


def test_the_request_id_is_forgotten_after_the_request(client):
    client.get("/healthz", headers={"X-Request-ID": "req-2"}).close()
    assert REQUEST_ID.get() is None


def test_what_a_view_binds_is_forgotten_after_the_request(capsys, app, client):
    @app.get("/bind")
    def bind():
        structlog.contextvars.bind_contextvars(user="ada")
        return {}

    client.get("/bind").close()
    assert structlog.contextvars.get_contextvars() == {}
    structlog.get_logger("test").info("between requests")
    line = json.loads(capsys.readouterr().out)
    assert "user" not in line and "request_id" not in line


def test_a_streamed_body_logs_with_the_request_id(capsys, app, client):
    @app.get("/stream")
    def stream():
        def body():
            structlog.get_logger("test").info("streaming")
            yield "done"

        return app.response_class(body())

    response = client.get("/stream", headers={"X-Request-ID": "req-3"})
    assert response.get_data() == b"done"  # the server sends the body after the view
    response.close()
    line = json.loads(capsys.readouterr().out)
    assert (line["event"], line["request_id"]) == ("streaming", "req-3")
    assert REQUEST_ID.get() is None


def test_the_request_id_is_forgotten_when_the_app_raises():
    def broken_app(environ, start_response):
        raise RuntimeError("before any answer")

    with pytest.raises(RuntimeError):
        PerRequest(broken_app, [])({}, None)
    assert REQUEST_ID.get() is None
