"""How the gunicorn worker of server.py reads request bodies (request_body.py), driven
by hand over a socket pair: in its event loop, until they are all in, or refused."""

import gc
import json
import socket
import threading
import time
import weakref
from concurrent import futures

import pytest
from gunicorn.config import Config
from gunicorn.workers import gthread

from {{ cookiecutter.package_name }} import server

from .raw_http import ADDRESS, BODIES, GREETING, HEALTHZ, answer, answer_head

CHUNKED = b"Transfer-Encoding: chunked\r\n\r\n"


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
    status, headers, problem = answer(client)
    assert status == b"HTTP/1.1 408 Request Timeout"
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(problem)["detail"] == "The request body took over 0 seconds."


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


def test_requests_arriving_fast_hold_no_more_than_the_bound(worker, pair, monkeypatch):
    monkeypatch.setattr(server, "HELD_BYTES", 1000)
    conn, client = pair
    client.sendall(GREETING + b"Content-Length: 100000\r\n\r\n" + b" " * 99_000)
    assert worker.handle(conn) is False  # 503
    assert len(conn.received) <= 1000 + 65536  # past the bound by one read at most


def test_a_chunk_that_takes_the_body_past_the_limit_gets_413_at_once(app, worker, pair):
    app.config["MAX_CONTENT_LENGTH"] = 10
    worker.load_wsgi()
    conn, client = pair
    client.sendall(GREETING + CHUNKED + b"6\r\n{}{}{}\r\n")
    assert worker.handle(conn) is gthread._DEFER  # 6 of 10 bytes
    client.sendall(b"5\r\n")  # 11: none of it needed to tell
    assert worker.handle(conn) is False
    status, _, problem = answer(client)
    assert status.startswith(b"HTTP/1.1 413")
    assert json.loads(problem)["status"] == 413


def test_a_transfer_coding_other_than_chunked_gets_501(worker, pair):
    conn, client = pair
    client.sendall(GREETING + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
    assert worker.handle(conn) is False
    assert answer(client)[0] == b"HTTP/1.1 501 Not Implemented"


# Broken, with nothing sent after it: what shows it broken must be answered now.
@pytest.mark.parametrize(
    "request_",
    [
        b"GET /healthz HTTP/1.1\nHost: a\n\n",
        b"GET /healthz HTTP/1.1\r\nHost: a\n",
        *(
            GREETING + CHUNKED + body
            for body in [
                b"5\r\n{}{}{XX",  # the chunk goes on past its size
                b"5\r\n{}{}{\r\nnot hex\r\n",
                b"zz\r\n",
                b"1" * 9000,  # a size line longer than gunicorn takes
                b"1\n",  # bare LFs: after a size,
                b"0\n",
                b"\n",
                b"1\r\na\r\n0\n",
                b"2\r\n{}\r\n0\r\n\n",  # ending the trailers,
                b"1\r\na\r\n0\r\nX-T: t\n",  # in one
            ]
        ),
    ],
)
def test_a_request_shown_broken_is_answered_at_once(
    worker, pair, monkeypatch, request_
):
    monkeypatch.setattr(server, "IO_TIMEOUT", None)  # a thread would wait for good
    conn, client = pair
    client.sendall(request_)
    assert handled_at_once(worker, conn) is False  # answered, and closed
    status, _, problem = answer(client)
    assert status.startswith(b"HTTP/1.1 400"), problem


def test_a_body_left_unread_closes_the_connection_after_the_answer(worker, pair):
    conn, client = pair
    client.sendall(HEALTHZ[:-2] + b"Content-Length: 2000000\r\n\r\n{")  # over the limit
    assert handled_at_once(worker, conn) is False  # not kept: its body is not read
    assert answer(client)[0] == b"HTTP/1.1 200 OK"  # a GET's answer, which needs none


def test_a_connection_cut_short_is_freed_at_once(worker):
    ours, client = socket.socketpair()  # not the fixture's: pytest keeps those
    conn = gthread.TConn(Config(), ours, ADDRESS, ("127.0.0.1", 8000))
    client.sendall(GREETING + b"Content-Length: 100000\r\n\r\n" + b" " * 50_000)
    gc.disable()  # freed by reference counting alone, as the worker runs
    try:
        assert worker.handle(conn) is gthread._DEFER
        conn.close()  # the client too slow: murder_pending
        freed = weakref.ref(conn)
        del conn
        assert freed() is None, "a cycle holds it, and 50 kB, until a full collection"
    finally:
        gc.enable()
        client.close()


def handled_at_once(worker, conn):
    """worker.handle(conn), asserting it does not wait on the client."""
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(worker.handle(conn)))
    thread.daemon = True
    thread.start()
    thread.join(5)
    assert not thread.is_alive(), "a thread waits on the client"
    return outcome[0]


def test_no_100_continue_for_a_body_refused_unread(worker, pair):
    conn, client = pair
    client.sendall(
        GREETING + b"Content-Length: 2000000\r\nExpect: 100-continue\r\n\r\n"
    )
    assert worker.handle(conn) is False
    assert answer(client)[0].startswith(b"HTTP/1.1 413")  # first, with no 100 before


def test_a_body_the_app_did_not_read_and_that_is_broken_gets_no_second_answer(
    worker, pair
):
    conn, client = pair
    client.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\n" + CHUNKED + b"zz\r\n")
    assert worker.handle(conn) is False  # answered, then closed
    conn.close()  # as gthread's finish_request does
    sent = client.makefile("rb").read()
    assert sent.startswith(b"HTTP/1.1 200 OK")
    assert sent.count(b"HTTP/1.1 ") == 1  # no 400 after it for the same request


@pytest.mark.parametrize(
    ("request_", "setting", "value"),
    [
        (b"Content-Length: 2\r\n\r\n{", "BODY_TIMEOUT", 0.0),  # 408
        (b"Content-Length: 2\r\n\r\n{", "HELD_BYTES", 10),  # 503
        (b"Transfer-Encoding: gzip, chunked\r\n\r\n", None, None),  # 501, ours
        (b"Transfer-Encoding: xchunked\r\n\r\n", None, None),  # 501, gunicorn's
        (b"Content-Length: 1\r\nContent-Length: 1\r\n\r\n{", None, None),  # 400
    ],
)
def test_a_head_refused_by_the_server_gets_no_body(
    worker, pair, monkeypatch, request_, setting, value
):
    if setting:
        monkeypatch.setattr(server, setting, value)
    conn, client = pair
    client.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: a\r\n" + request_)
    assert worker.handle(conn) is False
    status, headers = answer_head(client)
    assert status[9:10] in (b"4", b"5"), status
    assert int(headers["Content-Length"]) > 0  # what a GET would get
    conn.close()  # as gthread's finish_request does
    assert client.recv(65536) == b""  # but no body
