"""The gunicorn worker the service runs (worker_class in gunicorn.conf.py).

gunicorn's threaded worker, made safe for clients that reach it directly (a Kubernetes
Service, `kubectl port-forward`, an L4 load balancer), with no buffering proxy in front:

- A request (request line, headers and body) is read as it arrives by the worker's event
  loop, not waited on by a thread: a client that sends it slowly holds no thread and
  slows no one else. A head must be in within HEAD_TIMEOUT and a body within
  BODY_TIMEOUT, or the client gets 408; the requests still arriving hold at most
  HELD_BYTES of memory (503). A thread takes the request once it is all there, and
  waits at most IO_TIMEOUT on a client that reads none of the answer (the connection is
  closed). What gunicorn or the app refuse unread (a framing in doubt, a length over
  MAX_CONTENT_LENGTH) goes to a thread at once; a chunk over MAX_CONTENT_LENGTH, or a
  transfer coding but chunked, is refused here (413, 501). See request_body.py.
- A connection closed after an error is drained by the event loop, not waited on by it:
  gunicorn's graceful close blocks the whole worker for up to 2 s per client that does
  not close its end.
- The server's own error answers (gunicorn's, for requests it cannot parse, and the
  above) are problem documents with the API's headers and an X-Request-ID, like the
  app's, instead of HTML pages; a HEAD's has no body. gunicorn's access lines for them
  say what was sent.
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
from .request_body import (
    EXPECT_CONTINUE,
    FRAMING,
    HEAD_END,
    Refused,
    awaited_body,
    bare_lf,
)
from .security import CACHE_CONTROL, api_headers

# Seconds a client has to send a request's head: from connecting, or from its first
# byte on a connection kept alive.
HEAD_TIMEOUT = 10.0
# Seconds a client has to send a request's body once its head is in.
BODY_TIMEOUT = 30.0
# Bytes of requests still arriving that a worker holds while it waits for the rest: a
# request that would take it past that gets 503.
HELD_BYTES = 16 * 1024 * 1024
# Seconds a thread waits on a client that sends nothing more of its body, or reads
# nothing of the answer: then it is free for the others.
IO_TIMEOUT = 10.0
# Seconds a closed connection waits for the client's FIN, reading what it still sends.
LINGER = 2.0
# Bytes of body sent in one piece with the head: copying them costs less than a send.
ONE_SEND = 65536


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
        # A longer body is refused by the app unread (413): no use waiting for it.
        self.longest_body = self.wsgi.config["MAX_CONTENT_LENGTH"]
        # gunicorn's bound on a chunk's size line, as on a header's.
        self.longest_line = self.cfg.limit_request_field_size or 8190

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Closed connections waiting for the client's FIN: (until when, socket).
        self.lingering: deque[tuple[float, socket.socket]] = deque()
        # Bytes held of requests still arriving (hold), by threads of the pool.
        self.held, self.held_lock = 0, threading.Lock()

    def handle(self, conn):
        if not hasattr(conn, "received"):  # a new connection
            self.next_request(conn)
            conn.close = partial(self.close, conn)
            conn.expect_answered = conn.unread = False
        # Read by the thread of the request before: the next request, or its start.
        ahead = conn.initialized and conn.parser.unreader.buf.getvalue()
        if ahead:
            conn.parser.unreader.take_buffered()
        outcome = self.receive(conn, ahead or b"")
        if outcome is not True:
            return outcome
        self.release(conn)
        conn.init()  # the parser, and the socket blocking for the thread from now on
        conn.parser.unreader.unread(bytes(conn.received))
        conn.data_ready = True
        ERROR_ANSWER.head = conn.received.startswith(b"HEAD ")  # for ProblemWriter
        self.next_request(conn)
        return super().handle(conn)

    @staticmethod
    def next_request(conn) -> None:
        conn.received, conn.deadline, conn.body, conn.held = bytearray(), None, None, 0

    def handle_request(self, req, conn):
        # gthread's handle made the socket blocking, with no limit on a silent client.
        conn.sock.settimeout(IO_TIMEOUT)
        if conn.expect_answered:  # by complete(): gunicorn must not send 100 Continue
            req._expected_100_continue = conn.expect_answered = False
        return super().handle_request(req, conn)

    def _keepalive_after(self, conn, keepalive):
        # gunicorn would read to its end a body the app did not read: one left unread
        # here (a thread would wait on a slow client), or found broken then (answered
        # twice, 400) closes the connection instead.
        if conn.unread:
            conn.unread = False
            return False
        try:
            return super()._keepalive_after(conn, keepalive)
        except Exception as error:  # the client's fault, and answered already
            self.log.debug("Closing after a broken body: %s", error)
            return False

    def finish_request(self, conn, fs) -> None:
        returned = not fs.cancelled() and not fs.exception()
        if returned and fs.result() is gthread._DEFER and not self.alive:
            # Sent to wait in the event loop just before the worker began to stop, which
            # gunicorn would take for a closed connection: a thread waits instead.
            self.enqueue_req(conn)
            return
        super().finish_request(conn, fs)

    def receive(self, conn, data: bytes = b""):
        """True once the request's head, and its body if one is awaited, are all in
        conn.received, with `data` read already; else gthread's _DEFER, to wait in the
        event loop for more, or False to close the connection."""
        if conn.deadline is None:
            conn.deadline = time.monotonic() + HEAD_TIMEOUT
        if conn.sock.gettimeout() != 0.0:  # a syscall saved: kept-alive ones are so
            conn.sock.setblocking(False)
        while True:
            if data:
                try:
                    if self.complete(conn, data):
                        return True
                except Refused as refusal:
                    return self.refuse(conn, refusal.status, refusal.detail)
                if not self.hold(conn):
                    detail = "The server holds too much of other requests: try again."
                    return self.refuse(conn, 503, detail)
            try:
                data = conn.sock.recv(65536)
            except BlockingIOError:
                left = conn.deadline - time.monotonic()
                if left <= 0 and conn.received:
                    part = "head" if conn.body is None else "body"
                    limit = HEAD_TIMEOUT if conn.body is None else BODY_TIMEOUT
                    detail = f"The request {part} took over {limit:g} seconds."
                    return self.refuse(conn, 408, detail)
                if self.alive:
                    return gthread._DEFER
                # A stopping worker's event loop takes no more requests: wait here, as
                # gunicorn does, so that a request accepted just before is answered.
                if left <= 0 or not select.select([conn.sock], [], [], left)[0]:
                    return False
                data = b""
                continue
            except OSError:
                return False
            if not data:  # the client closed
                return False

    def complete(self, conn, data: bytes) -> bool:
        """Whether the request is all in with `data`, or shows what gunicorn refuses.
        Raises Refused for what the server refuses itself."""
        received = conn.received
        if conn.body is not None:  # the head is in: the body arriving
            received += data
            return conn.body(received)
        searched = max(len(received) - len(HEAD_END), 0)
        received += data
        end = received.find(HEAD_END, searched)
        if end == -1:  # gunicorn refuses a head too long (414, 431), or a bare LF (400)
            return len(received) > self.largest_head() or bare_lf(received, searched)
        end += len(HEAD_END)
        if not FRAMING.search(received, 0, end):  # no body: most requests
            return True
        head = bytes(received[:end]).lower()
        conn.body = awaited_body(head, self.longest_body, self.longest_line)
        # A body announced but not waited for is left unread: close after the answer.
        conn.unread = conn.body is None
        request_line = head[: head.index(b"\r\n")]
        # 100 Continue only for a body awaited here: none for one refused unread.
        conn.expect_answered = bool(
            request_line.endswith(b"http/1.1") and EXPECT_CONTINUE.search(head)
        )
        if conn.body is None or conn.body(received):
            return True
        conn.deadline = time.monotonic() + BODY_TIMEOUT
        if conn.expect_answered:  # the client waits for this before it sends the body
            with suppress(OSError):
                conn.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        return False

    def refuse(self, conn, status: int, detail: str) -> bool:
        """A problem document for a request answered unread; False, to close."""
        self.log.warning("%s for a request from %s: %s", status, conn.client, detail)
        ERROR_ANSWER.head = conn.received.startswith(b"HEAD ")
        util.write_error(conn.sock, status, HTTPStatus(status).phrase, detail)
        return False

    def hold(self, conn) -> bool:
        """Whether the worker can hold what conn has received while it waits for more:
        the requests still arriving hold at most HELD_BYTES a worker."""
        more = len(conn.received) - conn.held
        if not more:
            return True
        with self.held_lock:
            if self.held + more > HELD_BYTES:
                return False
            self.held += more
        conn.held += more
        return True

    def release(self, conn) -> None:
        if conn.held:
            with self.held_lock:
                self.held -= conn.held
            conn.held = 0

    def close(self, conn, graceful: bool = False) -> None:
        """TConn.close, on the event loop: after FIN, read what the client still sends
        (so that the kernel sends no RST over the answer) until it closes or LINGER."""
        if getattr(conn, "held", 0):
            self.release(conn)
        # Freed now, not at the garbage collector's next full pass: conn.close refers
        # to conn, and a request cut short may have left a megabyte in conn.received.
        conn.__dict__.pop("close", None)
        conn.received = conn.body = None
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
        line = self.longest_line
        return cfg.limit_request_line + cfg.limit_request_fields * (line + 2) + 4

    def handle_error(self, req, client, addr, exc) -> None:
        # gunicorn logs its answer before it writes it: the access line waits to say
        # what was sent.
        with logs.held_access() as sent:
            super().handle_error(req, client, addr, exc)
            sent.update(bytes=ERROR_ANSWER.sent, request_id=ERROR_ANSWER.request_id)


class Response(wsgi.Response):
    """gunicorn's response without the Server header (nothing to tell a scanner),
    its head sent together with a small body."""

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
        _, *rest = super().default_headers()
        lines = [line for line in rest if line[:7] != "Server:"]
        # The server's own version (RFC 9112, 2.3), not the request's (1.0, or 1.2).
        return [f"HTTP/1.1 {self.status}\r\n", *lines, *self.sent_lines]

    def write(self, arg) -> None:
        # The head goes out with the body's first bytes, in one send: a system call
        # (and its poll) and a packet fewer for a body of one small piece, as the API's
        # answers are. gunicorn sends the head on its own first.
        if (
            self.headers_sent
            or self.chunked
            or self._omits_body
            or not isinstance(arg, bytes)
            or not 0 < len(arg) <= ONE_SEND
        ):
            return super().write(arg)
        if self.response_length is not None:
            arg = arg[: self.response_length]  # never more than it said, as gunicorn
        util.write(self.sock, self.head() + arg)
        self.headers_sent = True
        self.sent = len(arg)

    def send_headers(self) -> None:
        if not self.headers_sent:
            util.write(self.sock, self.head())
            self.headers_sent = True

    def head(self) -> bytes:
        """gunicorn's send_headers, less the sending."""
        lines = self.default_headers()
        lines.extend([f"{name}: {value}\r\n" for name, value in self.headers])
        return ("".join(lines) + "\r\n").encode("latin-1")


class ErrorAnswer(threading.local):
    """The error answer written on this thread: whether it answers a HEAD (set as the
    worker hands a request on, Worker.handle), and what ProblemWriter sent."""

    head = False
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
        if ERROR_ANSWER.head:
            body = b""  # the head a GET would get, without its body (RFC 9110 9.3.2)
        ERROR_ANSWER.sent, ERROR_ANSWER.request_id = len(body), request_id
        util.write_nonblock(sock, head.encode("latin-1") + body)
