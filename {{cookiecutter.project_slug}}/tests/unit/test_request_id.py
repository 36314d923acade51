import json
import logging

import structlog


def test_a_request_id_is_made_when_none_is_given(client):
    request_id = client.get("/healthz").headers["X-Request-ID"]
    assert len(request_id) == 32


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
    client.get("/healthz", headers={"X-Request-ID": "req-2"})
    assert structlog.contextvars.get_contextvars() == {}
