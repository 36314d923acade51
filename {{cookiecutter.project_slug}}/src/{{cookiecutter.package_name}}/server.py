"""The gunicorn worker the service runs (worker_class in gunicorn.conf.py).

gunicorn's threaded worker, made safe for clients that reach it directly (a Kubernetes
Service, `kubectl port-forward`, an L4 load balancer), with no buffering proxy in front:

- A request's head (request line and headers) is read by the worker's event loop, not by
  a thread: a client that sends it slowly holds no thread and slows no one else, and one
  that takes longer than HEAD_TIMEOUT gets 408. A thread takes the request once its head
  is all there, and waits at most IO_TIMEOUT on a client that sends no more of its body
  (400) or reads none of the answer (the connection is closed).
- A connection closed after an error is drained by the event loop, not waited on by it:
  gunicorn's graceful close blocks the whole worker for up to 2 s per client that does
  not close its end.
- gunicorn's own error answers, for requests it cannot parse, are problem documents with
  the API's headers and an X-Request-ID, like the app's, instead of HTML pages (a
  HEAD's has no body), and their access lines say what was sent.
- No `Server` header.
"""

from __future__ import annotations

import json
import secrets
import select
import selectors
import socket
import threading
import time
from collections import deque
from contextlib import suppress
from functools import partial
from http import HTTPStatus
from typing import ClassVar

from gunicorn import util
from gunicorn.http import wsgi
from gunicorn.workers import gthread

from . import logs
from .security import CACHE_CONTROL, api_headers

HEAD_END = b"\r\n\r\n"
# Seconds a client has to send a request's head: from connecting, or from its first
# byte on a connection kept alive.
HEAD_TIMEOUT = 10.0
# Seconds a thread waits on a client that sends nothing more of its body, or reads
# nothing of the answer: then it is free for the others.
IO_TIMEOUT = 10.0
# Seconds a closed connection waits for the client's FIN, reading what it still sends.
LINGER = 2.0


class Worker(gthread.ThreadWorker):
    def load_wsgi(self) -> None:
        super().load_wsgi()
        headers = [*api_headers(self.wsgi.config), CACHE_CONTROL]
        # gunicorn writes its error answers through util.write_error: write ours.
        util.write_error = ProblemWriter(headers)
        wsgi.Response = Response
        Response.api_lines = {
            (name, value): f"{name}: {value}\r\n" for name, value in headers
        }

    def init_process(self) -> None:
        self.lingering: deque[tuple[float, socket.socket]] = deque()
        super().init_process()

    def handle(self, conn):
        if not hasattr(conn, "head"):  # a new connection
            conn.head, conn.head_deadline = bytearray(), None
            conn.close = partial(self.close, conn)
        elif conn.initialized and conn.parser.unreader.buf.getvalue():
            # The client sent more than one request at once: the next is read already.
            return super().handle(conn)
        outcome = self.read_head(conn)
        if outcome is not True:
            return outcome
        conn.init()  # the parser, and the socket blocking for the thread from now on
        conn.parser.unreader.unread(bytes(conn.head))
        conn.head, conn.head_deadline = bytearray(), None
        conn.data_ready = True
        return super().handle(conn)

    def handle_request(self, req, conn):
        # gthread's handle made the socket blocking, with no limit on a silent client.
        conn.sock.settimeout(IO_TIMEOUT)
        return super().handle_request(req, conn)

    def finish_request(self, conn, fs) -> None:
        returned = not fs.cancelled() and not fs.exception()
        if returned and fs.result() is gthread._DEFER and not self.alive:
            # Sent to wait in the event loop just before the worker began to stop, which
            # gunicorn would take for a closed connection: a thread waits instead.
            self.enqueue_req(conn)
            return
        super().finish_request(conn, fs)

    def read_head(self, conn):
        """True once the head is all in conn.head; else gthread's _DEFER, to wait in the
        event loop for more, or False to close the connection."""
        if conn.head_deadline is None:
            conn.head_deadline = time.monotonic() + HEAD_TIMEOUT
        if conn.sock.gettimeout() != 0.0:  # a syscall saved: kept-alive ones are so
            conn.sock.setblocking(False)
        while True:
            try:
                data = conn.sock.recv(65536)
            except BlockingIOError:
                left = conn.head_deadline - time.monotonic()
                if left <= 0 and conn.head:
                    self.log.warning("Request head too slow from %s", conn.client)
                    util.write_error(conn.sock, 408, "Request Timeout", "")
                    return False
                if self.alive:
                    return gthread._DEFER
                # A stopping worker's event loop takes no more heads: wait here, as
                # gunicorn does, so that a request accepted just before is answered.
                if left <= 0 or not select.select([conn.sock], [], [], left)[0]:
                    return False
                continue
            except OSError:
                return False
            if not data:  # the client closed
                return False
            searched = max(len(conn.head) - len(HEAD_END), 0)
            conn.head += data
            if conn.head.find(HEAD_END, searched) != -1:
                return True
            if len(conn.head) > self.largest_head():
                return True  # gunicorn answers 414 or 431

    def close(self, conn, graceful: bool = False) -> None:
        """TConn.close, on the event loop: after FIN, read what the client still sends
        (so that the kernel sends no RST over the answer) until it closes or LINGER."""
        sock = conn.sock
        if graceful:
            try:
                sock.shutdown(socket.SHUT_WR)
                sock.setblocking(False)
                self.poller.register(sock, selectors.EVENT_READ, self.drain)
                self.lingering.append((time.monotonic() + LINGER, sock))
                return
            except (OSError, ValueError, KeyError):
                pass
        util.close(sock)

    def drain(self, sock: socket.socket) -> None:
        try:
            while sock.recv(65536):
                pass
        except BlockingIOError:
            return
        except OSError:
            pass
        self.poller.unregister(sock)
        sock.close()

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        while self.lingering and self.lingering[0][0] <= now:
            sock = self.lingering.popleft()[1]
            if sock.fileno() != -1:  # not closed by drain() already
                self.poller.unregister(sock)
                sock.close()

    def largest_head(self) -> int:
        cfg = self.cfg
        field = cfg.limit_request_field_size or 8190
        return cfg.limit_request_line + cfg.limit_request_fields * (field + 2) + 4

    def handle_error(self, req, client, addr, exc) -> None:
        # gunicorn tells its error writer nothing of the request, and logs the answer
        # before writing it: the writer is told the method (a HEAD's answer has no
        # body), and the access line waits to say what was sent.
        request = req or getattr(exc, "req", None)  # as gunicorn's, for a bad header
        ERROR_ANSWER.method = getattr(request, "method", None)
        try:
            with logs.held_access() as sent:
                super().handle_error(req, client, addr, exc)
                sent.update(bytes=ERROR_ANSWER.sent, request_id=ERROR_ANSWER.request_id)
        finally:
            ERROR_ANSWER.method = None


class Response(wsgi.Response):
    """gunicorn's response without the Server header: nothing to tell a scanner."""

    # The headers the API adds to every answer (security.py) as the lines sent, set by
    # Worker.load_wsgi.
    api_lines: ClassVar[dict[tuple[str, str], str]] = {}

    def process_headers(self, headers) -> None:
        # The API's own headers, and a request id of ASCII letters and digits (as the
        # app makes them), are valid and not hop-by-hop: gunicorn's checks, two regexes
        # and more a header, are spent on the others only. The API's are sent as lines
        # written once, not formatted for each answer.
        lines = self.api_lines
        checked, valid, self.sent_lines = [], [], []
        for header in headers:
            name, value = header
            line = lines.get(header)
            if line is not None:
                self.sent_lines.append(line)
            elif name == "X-Request-ID" and value.isascii() and value.isalnum():
                valid.append(header)
            elif header == ("Connection", "close"):  # the app's (errors.py)
                self.force_close()
            else:
                checked.append(header)
        super().process_headers(checked)
        self.headers += valid

    def default_headers(self) -> list[str]:
        lines = [line for line in super().default_headers() if line[:7] != "Server:"]
        return lines + self.sent_lines


class ErrorAnswer(threading.local):
    """The error answer gunicorn writes on this thread: the request's method, when it
    was read (Worker.handle_error), and what ProblemWriter sent."""

    method: str | None = None
    sent = 0  # bytes of body
    request_id = ""


ERROR_ANSWER = ErrorAnswer()


class ProblemWriter:
    """util.write_error's signature, writing a problem document (RFC 9457)."""

    def __init__(self, headers: list[tuple[str, str]]) -> None:
        self.headers = "".join(f"{name}: {value}\r\n" for name, value in headers)

    def __call__(self, sock, status: int, reason: str, detail: str) -> None:
        # The status's own phrase: gunicorn passes "Bad Request" with a 501, for one.
        with suppress(ValueError):
            reason = HTTPStatus(status).phrase
        problem = {"type": "about:blank", "title": reason, "status": status}
        if detail:
            problem["detail"] = detail
        body = json.dumps(problem).encode()
        request_id = secrets.token_hex(16)
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            "Connection: close\r\n"
            "Content-Type: application/problem+json\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"{self.headers}"
            f"X-Request-ID: {request_id}\r\n\r\n"
        )
        if ERROR_ANSWER.method == "HEAD":
            body = b""  # the head a GET would get, without its body (RFC 9110 9.3.2)
        ERROR_ANSWER.sent, ERROR_ANSWER.request_id = len(body), request_id
        util.write_nonblock(sock, head.encode("latin-1") + body)
