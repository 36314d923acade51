"""The gunicorn worker of server.py, driven by hand over a socket pair: its event loop's
part (reading heads, lingering closes) and gunicorn's request handling behind it. How
it reads bodies: test_request_body.py."""

import json
import socket
import sys
import threading
from collections import deque
from concurrent import futures

import pytest
from gunicorn.config import Config
from gunicorn.workers import gthread

from {{ cookiecutter.package_name }} import server
from {{ cookiecutter.package_name }}.security import HEADERS

from .raw_http import ADDRESS, HEALTHZ, answer


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


@pytest.mark.parametrize("version", [b"1.0", b"1.2"])
def test_the_status_line_says_the_server_s_version(worker, pair, version):
    conn, client = pair
    client.sendall(HEALTHZ.replace(b"HTTP/1.1", b"HTTP/" + version))
    worker.handle(conn)
    assert answer(client)[0] == b"HTTP/1.1 200 OK"


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
