"""The access log against gunicorn's own objects: its parser, Response and Worker."""

import json
import os
import socket
import sys
import time
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from gunicorn import util
from gunicorn.config import Config
from gunicorn.http.parser import RequestParser
from gunicorn.http.wsgi import create
from gunicorn.workers.sync import SyncWorker

from {{ cookiecutter.package_name }} import server
from {{ cookiecutter.package_name }}.logs import GunicornLogger, held_access

ADDRESS = ("10.0.0.1", 51234)


def gunicorn_config(accesslog="-"):
    config = Config()
    config.set("accesslog", accesslog)
    return config


def parse(raw: bytes, config):
    """gunicorn's request for `raw`, or the error its parser raises."""
    return next(RequestParser(config, [raw], ADDRESS))


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_an_answer_of_the_app_is_one_json_line(capsys):
    config = gunicorn_config()
    request = parse(
        b"POST /api?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", config
    )
    ours, theirs = socket.socketpair()
    with ours, theirs:
        response, environ = create(request, ours, ADDRESS, ("127.0.0.1", 8000), config)
        response.start_response("201 CREATED", [("X-Request-ID", "req-9")])
        response.write(b'{"greeting": "hi"}')
        GunicornLogger(config).access(
            response, request, environ, timedelta(milliseconds=2.5)
        )
    (line,) = json_lines(capsys.readouterr().out)
    expected = {
        "event": "request",
        "method": "POST",
        "path": "/api",
        "status": 201,
        "bytes": 18,
        "duration_ms": 2.5,
        "request_id": "req-9",
        "remote_addr": "10.0.0.1",
    }
    assert expected.items() <= line.items()
    logged_at = datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00"))
    assert abs(logged_at.timestamp() - time.time()) < 5


@pytest.mark.parametrize(
    "raw",
    [
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
    ],
)
def test_an_error_gunicorn_answers_itself_is_logged_not_raised(capsys, raw):
    """Worker.handle_error gives the logger a Response with `status` only."""
    config = gunicorn_config()
    with pytest.raises(Exception) as caught:
        parse(raw, config)
    worker = SyncWorker(0, os.getpid(), [], None, 30, config, GunicornLogger(config))
    ours, theirs = socket.socketpair()
    with ours, theirs:
        worker.handle_error(None, ours, ADDRESS, caught.value)
        assert theirs.recv(100).startswith(b"HTTP/1.1 400 ")
    worker.tmp.close()
    access = [
        line
        for line in json_lines(capsys.readouterr().out)
        if line["event"] == "request"
    ]
    assert [(line["status"], line["method"]) for line in access] == [
        (400, raw.split()[0].decode())
    ]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_an_answer_the_worker_writes_itself_is_logged_with_what_it_sent(
    capsys, monkeypatch, method
):
    """gunicorn logs its own error answer before writing it: server.Worker holds the
    line until then."""
    config = gunicorn_config()
    monkeypatch.setattr(util, "write_error", server.ProblemWriter([]))
    raw = f"{method} /x?q=1 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".encode()
    with pytest.raises(Exception) as caught:
        parse(raw, config)
    worker = server.Worker(0, os.getpid(), [], None, 30, config, GunicornLogger(config))
    # As Worker.handle notes it, handing the request to gunicorn.
    monkeypatch.setattr(server.ERROR_ANSWER, "head", method == "HEAD")
    ours, theirs = socket.socketpair()
    with ours, theirs:
        worker.handle_error(None, ours, ADDRESS, caught.value)
        ours.shutdown(socket.SHUT_WR)
        head, _, body = theirs.makefile("rb").read().partition(b"\r\n\r\n")
    worker.tmp.close()
    lines = json_lines(capsys.readouterr().out)
    (line,) = [line for line in lines if line["event"] == "request"]
    assert (line["method"], line["path"], line["bytes"]) == (method, "/x", len(body))
    assert f"X-Request-ID: {line['request_id']}".encode() in head.split(b"\r\n")
    assert (body == b"") == (method == "HEAD")


def test_a_failing_access_log_is_reported_not_raised(capsys, monkeypatch):
    logger = GunicornLogger(gunicorn_config())
    logger.access(object(), None, {}, timedelta(0))  # a response it cannot read
    (line,) = json_lines(capsys.readouterr().out)
    assert (line["event"], line["level"]) == ("access_log_failed", "error")
    assert "Traceback" in line["exception"]

    class BrokenStdout:
        def write(self, text):
            raise BrokenPipeError

    monkeypatch.setattr(sys, "stdout", BrokenStdout())
    logger.access(object(), None, {}, timedelta(0))  # nowhere to write: still no raise
    with held_access():  # nor when a line held meanwhile is written
        logger.access(SimpleNamespace(status="400", headers=[]), None, {}, timedelta(0))


def test_gunicorn_access_log_can_be_off(capsys):
    GunicornLogger(gunicorn_config(None)).access(None, None, {}, timedelta(0))
    assert capsys.readouterr().out == ""
