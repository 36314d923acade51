"""gunicorn's access log over the wire: a line for each answer, the app's and those
gunicorn writes itself, saying what was sent and what was asked for."""

import json
import os

import pytest

from .conftest import wait_for
from .hostile import CORPUS, REFUSED_KNOWING_THE_METHOD, as_head, exchange, request

pytestmark = pytest.mark.skipif(
    os.name == "nt", reason="gunicorn, the server under test, runs on Linux and macOS"
)
CLOSE = "Connection: close\r\n"  # no waiting on a kept-alive answer to a HEAD


def answer_and_line(server, raw: bytes):
    """The answer to the raw request `raw`, and the access line with its request id."""
    answer = exchange(server.port, raw)
    request_id = answer[1]["x-request-id"]
    found = []

    def logged():
        # Whole lines only: one being written has no newline yet.
        lines = server.log.read_text("utf-8").split("\n")[:-1]
        found[:] = [json.loads(line) for line in lines if request_id in line]
        return found

    wait_for(logged, f"an access line with request id {request_id}", deadline=5)
    (line,) = found
    return answer, line


REFUSED = {name: CORPUS[name][0] for name in REFUSED_KNOWING_THE_METHOD}
ANSWERS = {
    "the app's": request(CLOSE, method="GET", path="/healthz"),
    "the app's to a HEAD": request(CLOSE, method="HEAD", path="/healthz"),
    **REFUSED,
    **{f"{name}, HEAD": as_head(raw) for name, raw in REFUSED.items()},
}


@pytest.mark.parametrize("name", ANSWERS)
def test_an_access_line_says_what_was_sent(server, name):
    (status, headers, body), line = answer_and_line(server, ANSWERS[name])
    assert line["status"] == status
    assert line["bytes"] == len(body)  # of the body, as gunicorn counts the app's
    assert line["request_id"] == headers["x-request-id"]


TWO_LENGTHS = "Content-Length: 2\r\nContent-Length: 3\r\n" + CLOSE
TARGETS = [
    # The raw request, the path logged. A query is never logged.
    (request(CLOSE, method="GET", path="/a%20b?token=secret"), "/a b"),
    (request(CLOSE, method="CONNECT", path="example.com:443"), "example.com:443"),
    (request(CLOSE, method="OPTIONS", path="*"), "*"),
    (request(CLOSE, method="GET", path="http://example.com/healthz?x=1"), "/healthz"),
    # Refused by gunicorn: the target as sent.
    (request(TWO_LENGTHS, path="/api/v1/greetings?token=secret"), "/api/v1/greetings"),
    (request(TWO_LENGTHS, path="http://example.com/api?x=1"), "http://example.com/api"),
]


@pytest.mark.parametrize(
    "raw, path", TARGETS, ids=[raw.split(b"\r\n")[0].decode() for raw, _ in TARGETS]
)
def test_an_access_line_has_the_path_that_was_asked_for(server, raw, path):
    _, line = answer_and_line(server, raw)
    assert (line["method"], line["path"]) == (raw.split()[0].decode(), path)
