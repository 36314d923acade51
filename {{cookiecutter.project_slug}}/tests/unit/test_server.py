"""The gunicorn worker of server.py, driven by hand over a socket pair: its event loop's
part (reading heads, lingering closes) and gunicorn's request handling behind it."""

import json
import os
import selectors
import socket
import sys
import threading
import time
from collections import deque
from concurrent import futures

import pytest
from gunicorn import util
from gunicorn.config import Config
from gunicorn.glogging import Logger
from gunicorn.http import wsgi
from gunicorn.workers import gthread

from {{ cookiecutter.package_name }} import request_body, server
from {{ cookiecutter.package_name }}.security import HEADERS

ADDRESS = ("10.0.0.1", 51234)
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"


class App:
    """What gunicorn's worker asks for its WSGI app."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def wsgi(self):
        return self.wsgi_app


@pytest.fixture
def worker(app, monkeypatch):
    # load_wsgi replaces these in the worker's process: put them back after the test.
    monkeypatch.setattr(util, "write_error", util.write_error)
    monkeypatch.setattr(wsgi, "Response", wsgi.Response)
    config = Config()
    worker = server.Worker(0, os.getpid(), [], App(app), 30, config, Logger(config))
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


def answer(sock) -> tuple[bytes, dict[str, str], bytes]:
    """(status line, headers, body) of one answer."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    while len(body) < int(headers.get("Content-Length", 0)):
        body += sock.recv(65536)
    return status.encode(), headers, body


def test_a_head_sent_in_pieces_waits_in_the_event_loop(worker, pair):
    conn, client = pair
    assert worker.handle(conn) is gthread._DEFER  # nothing sent yet
    client.sendall(HEALTHZ[:20])
    # Were the thread to wait for the rest, this would free it, too late to pass.
    rest = threading.Timer(2, client.sendall, [HEALTHZ[20:]])
    rest.start()
    assert worker.handle(conn) is gthread._DEFER  # at once, no thread waits for it
    rest.cancel()
    client.sendall(HEALTHZ[20:])
    assert worker.handle(conn) is True  # answered, and kept alive
    status, headers, body = answer(client)
    assert (status, json.loads(body)) == (b"HTTP/1.1 200 OK", {"status": "ok"})
    assert "Server" not in headers


@pytest.mark.skipif(sys.platform != "linux", reason="packets over a socket pair")
def test_an_answer_of_one_small_piece_goes_out_in_one_send(worker):
    # A packet socket keeps each send apart, where a stream would join them.
    ours, client = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with ours, client:
        client.settimeout(5)
        client.sendall(HEALTHZ)
        assert worker.handle(gthread.TConn(Config(), ours, ADDRESS, ADDRESS)) is True
        head, body = client.recv(65536).split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert json.loads(body) == {"status": "ok"}


def test_the_api_headers_are_sent_once_and_the_views_own_still_checked(
    app, worker, pair
):
    @app.get("/own")
    def own():
        # Hop-by-hop (gunicorn drops it), and a request id gunicorn checks itself.
        return {}, {"Keep-Alive": "timeout=99", "X-Request-ID": "from the view"}

    conn, client = pair
    client.sendall(b"GET /own HTTP/1.1\r\nHost: a\r\nX-Request-ID: abc123\r\n\r\n")
    assert worker.handle(conn) is True
    head = b""
    while b"\r\n\r\n" not in head:
        head += client.recv(65536)
    lines = head.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")[1:]
    sent = [tuple(line.split(": ", 1)) for line in lines]
    for header in [*HEADERS, ("Cache-Control", "no-store")]:
        assert sent.count(header) == 1, header
    assert ("X-Request-ID", "from the view") in sent
    assert ("X-Request-ID", "abc123") in sent
    assert "Keep-Alive" not in dict(sent)


def test_a_head_too_slow_gets_408(worker, pair, monkeypatch):
    monkeypatch.setattr(server, "HEAD_TIMEOUT", 0.0)
    conn, client = pair
    client.sendall(b"GET /healthz HTTP/1.1\r\n")
    assert worker.handle(conn) is False  # no time left for the rest
    status, headers, _ = answer(client)
    assert status == b"HTTP/1.1 408 Request Timeout"
    assert headers["Content-Type"] == "application/problem+json"


GREETING = (
    b"POST /api/v1/greetings HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
)
BODIES = {
    "length": b'Content-Length: 15\r\n\r\n{"name": "Ada"}',
    "chunked": (
        b"Transfer-Encoding: chunked\r\n\r\n"
        b'3;ext=1\r\n{"n\r\nA\r\name": "Ada\r\n2\r\n"}\r\n0\r\nX-Trailer: t\r\n\r\n'
    ),
}


@pytest.mark.parametrize("framing", BODIES)
def test_a_request_waits_in_the_event_loop_until_its_body_is_all_in(
    worker, pair, framing
):
    request = GREETING + BODIES[framing]
    # Cut anywhere past the head's end, the request is one a thread need not wait on.
    for cut in range(request.index(b"\r\n\r\n") + 4, len(request)):
        conn, client = pair
        client.sendall(request[:cut])
        assert worker.handle(conn) is gthread._DEFER, request[:cut]
        client.sendall(request[cut:])
        assert worker.handle(conn) is True
        status, _, body = answer(client)
        assert (status, json.loads(body)) == (
            b"HTTP/1.1 201 CREATED",
            {"greeting": "Hello, Ada!"},
        )
    assert worker.held == 0  # all given back


def test_a_body_too_slow_gets_408(worker, pair, monkeypatch):
    monkeypatch.setattr(server, "BODY_TIMEOUT", 0.0)
    conn, client = pair
    client.sendall(GREETING + BODIES["length"][:-1])
    assert worker.handle(conn) is False  # no time left for the rest
    status, headers, _ = answer(client)
    assert status == b"HTTP/1.1 408 Request Timeout"
    assert headers["Content-Type"] == "application/problem+json"


def test_a_client_that_expects_100_continue_gets_it_once(worker, pair):
    conn, client = pair
    head, body = BODIES["length"].split(b"\r\n\r\n")
    client.sendall(GREETING + head + b"\r\nExpect: 100-continue\r\n\r\n")
    assert worker.handle(conn) is gthread._DEFER
    assert client.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
    client.sendall(body)
    assert worker.handle(conn) is True
    assert answer(client)[0] == b"HTTP/1.1 201 CREATED"  # with no second 100 before it


def test_a_request_that_stops_arriving_is_closed_after_the_keep_alive(worker, pair):
    conn, client = pair
    client.sendall(GREETING + BODIES["length"][:-1])
    deferred = futures.Future()
    deferred.set_result(worker.handle(conn))
    worker.nr_conns = 1
    worker.finish_request(conn, deferred)  # to wait in the event loop
    assert conn.timeout - time.monotonic() == pytest.approx(worker.cfg.keepalive, abs=1)
    conn.timeout = 0  # the keep-alive is over
    worker.murder_pending()
    assert client.recv(100) == b""  # closed, with no answer
    assert worker.held == 0


def test_requests_still_arriving_hold_bounded_memory(worker, pair, monkeypatch):
    monkeypatch.setattr(server, "HELD_BYTES", 100)
    conn, client = pair
    client.sendall(GREETING)  # within the bound: waits for the rest
    assert worker.handle(conn) is gthread._DEFER
    client.sendall(b"X-Pad: " + b"a" * 100)  # past it
    assert worker.handle(conn) is False
    status, _, body = answer(client)
    assert status == b"HTTP/1.1 503 Service Unavailable"
    assert json.loads(body)["status"] == 503
    conn.close()  # as gthread's finish_request does
    assert worker.held == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"Content-Length: 2000000\r\n\r\n{", b"HTTP/1.1 413 REQUEST ENTITY TOO LARGE"),
        (b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{", b"HTTP/1.1 400 BAD REQUEST"),
        (
            b"Content-Length: 1\r\nContent-Length: 1\r\n\r\n{",
            b"HTTP/1.1 400 Bad Request",
        ),
    ],
)
def test_a_body_refused_unread_is_not_waited_for(worker, pair, body, status):
    conn, client = pair
    client.sendall(GREETING + body)
    assert worker.handle(conn) is False  # answered at once, and closed
    assert answer(client)[0] == status


@pytest.mark.parametrize(
    "body",
    [
        b"5\r\n{}{}{XX",  # the chunk goes on past its size
        b"5\r\n{}{}{\r\nnot hex\r\n",
        b"1" * 9000,  # a size line longer than gunicorn takes
    ],
)
def test_chunked_framing_refused_shows_at_once(worker, pair, body):
    conn, client = pair
    client.sendall(GREETING + b"Transfer-Encoding: chunked\r\n\r\n" + body)
    assert worker.handle(conn) is False  # not waited on: answered, and closed
    status, _, problem = answer(client)
    assert status.startswith(b"HTTP/1.1 400"), problem


def test_a_chunked_body_over_the_limit_gets_413_once_the_app_can_tell(
    app, worker, pair
):
    app.config["MAX_CONTENT_LENGTH"] = 10
    worker.load_wsgi()
    conn, client = pair
    client.sendall(GREETING + b"Transfer-Encoding: chunked\r\n\r\n6\r\n{}{}{}\r\n")
    assert worker.handle(conn) is gthread._DEFER  # 6 of 10 bytes
    client.sendall(b"fff\r\n" + b" " * (4 + request_body.ChunkedBody.PAST))
    assert worker.handle(conn) is gthread._DEFER  # what the app needs, but for a byte
    client.sendall(b" ")
    assert worker.handle(conn) is False  # the app answers, and closes
    assert answer(client)[0] == b"HTTP/1.1 413 REQUEST ENTITY TOO LARGE"


def test_a_request_gunicorn_cannot_parse_gets_a_problem_with_the_api_headers(
    worker, pair
):
    conn, client = pair
    client.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    assert worker.handle(conn) is False
    status, headers, body = answer(client)
    assert status == b"HTTP/1.1 400 Bad Request"
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["status"] == 400
    assert dict(HEADERS).items() <= headers.items()
    assert len(headers["X-Request-ID"]) == 32
    assert "Server" not in headers


def test_an_unknown_transfer_coding_gets_501_under_its_own_name(worker, pair):
    conn, client = pair
    client.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n")
    assert worker.handle(conn) is False
    status, _, body = answer(client)
    assert status == b"HTTP/1.1 501 Not Implemented"
    assert json.loads(body)["title"] == "Not Implemented"


# Cut in its head, in its body, before its last byte.
@pytest.mark.parametrize("cut", [10, len(GREETING), -1])
def test_a_request_sent_with_the_one_before_waits_in_the_event_loop(worker, pair, cut):
    conn, client = pair
    second = GREETING + BODIES["length"]
    client.sendall(HEALTHZ + second[:cut])
    assert worker.handle(conn) is True  # the first answered: the second read with it
    assert answer(client)[0] == b"HTTP/1.1 200 OK"
    assert conn.parser.unreader.buf.getvalue()  # gunicorn hands it back to a thread
    assert worker.handle(conn) is gthread._DEFER  # which waits for none of it
    client.sendall(second[cut:])
    assert worker.handle(conn) is True
    assert answer(client)[0] == b"HTTP/1.1 201 CREATED"


def test_a_stopping_worker_still_reads_the_heads_it_accepted(worker, pair):
    conn, client = pair
    worker.alive = False
    threading.Timer(0.02, client.sendall, [HEALTHZ]).start()  # once it waits
    assert worker.handle(conn) is False  # waited for it in the thread, then closes
    status, headers, _ = answer(client)
    assert (status, headers["Connection"]) == (b"HTTP/1.1 200 OK", "close")


def test_a_head_sent_to_wait_as_the_worker_stops_is_still_read(worker, pair):
    conn, _ = pair
    deferred = futures.Future()
    deferred.set_result(gthread._DEFER)  # decided while the worker was still alive
    handled = []
    worker.enqueue_req = handled.append
    worker.alive = False
    worker.finish_request(conn, deferred)
    assert handled == [conn]  # to a thread, which waits for the head


def test_a_client_gone_before_its_head_is_closed(worker, pair):
    conn, client = pair
    client.sendall(b"GET /hea")
    client.shutdown(socket.SHUT_WR)
    assert worker.handle(conn) is False


def test_a_closed_connection_lingers_in_the_event_loop_not_in_it(
    worker, pair, monkeypatch
):
    conn, client = pair
    sock = conn.sock
    worker.handle(conn)  # a connection the worker knows
    conn.close(graceful=True)  # returns at once
    assert client.recv(10) == b""  # our FIN
    client.sendall(b"late bytes")
    worker.drain(sock)  # read and dropped, no RST over the answer
    assert sock.fileno() != -1
    client.close()
    worker.drain(sock)  # the client's FIN: closed
    assert sock.fileno() == -1
    monkeypatch.setattr(worker, "lingering", deque([(0.0, sock)]))
    worker.murder_pending()  # already closed: nothing to do


def test_a_lingering_connection_is_closed_in_the_end(worker, pair, monkeypatch):
    monkeypatch.setattr(server, "LINGER", 0.0)
    conn, _ = pair
    worker.handle(conn)
    conn.close(graceful=True)
    worker.murder_pending()
    assert conn.sock.fileno() == -1


def test_a_connection_closed_at_once_when_it_cannot_linger(worker, pair):
    conn, client = pair
    worker.handle(conn)
    client.close()
    conn.close()
    assert conn.sock.fileno() == -1
