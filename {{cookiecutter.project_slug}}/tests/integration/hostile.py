"""What hostile and broken clients send, as raw bytes, and the socket code to send it.

Each request of CORPUS must get a 4xx problem document, never a 5xx, a dead worker or a
connection dropped without an answer. The template's own tests and benchmarks read this
corpus too."""

import http.client
import socket
import threading
import time
from contextlib import suppress

API = "/api/v1/greetings"
JSON = "Content-Type: application/json\r\n"
CHUNKED = JSON + "Transfer-Encoding: chunked\r\n"


def request(
    head: str, body: bytes = b"", method: str = "POST", path: str = API
) -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode() + body


def as_head(raw: bytes) -> bytes:
    """The raw request `raw` with HEAD for its method."""
    return b"HEAD " + raw.split(b" ", 1)[1]


def chunked(*chunks: bytes) -> bytes:
    return (
        b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)
        + b"0\r\n\r\n"
    )


# name: (raw request, the status it gets)
CORPUS = {
    # gunicorn refuses these before the app sees them.
    "repeated Host": (b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    "repeated Content-Type": (
        request(
            "Content-Type: application/json\r\nContent-Type: text/plain\r\n"
            "Content-Length: 2\r\n",
            b"{}",
        ),
        400,
    ),
    "Content-Length and chunked": (
        request("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", chunked(b"{}")),
        400,
    ),
    "Content-Length -1": (request("Content-Length: -1\r\n"), 400),
    "two Content-Length": (
        request("Content-Length: 2\r\nContent-Length: 3\r\n", b"{}"),
        400,
    ),
    "Transfer-Encoding gzip alone": (request("Transfer-Encoding: gzip\r\n"), 400),
    "HTTP/1.0 with chunked": (
        b"POST "
        + API.encode()
        + b" HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunked(b"{}"),
        400,
    ),
    "request line it cannot parse": (b"GARBAGE\r\n\r\n", 400),
    "unknown HTTP version": (b"GET /healthz HTTP/7.1\r\nHost: x\r\n\r\n", 400),
    "header name with a space": (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n",
        400,
    ),
    "URI too long": (f"GET /{'a' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 414),
    "header too large": (
        f"GET /healthz HTTP/1.1\r\nHost: x\r\nX: {'a' * 9000}\r\n\r\n".encode(),
        431,
    ),
    "too many headers": (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X: 1\r\n" * 200 + b"\r\n",
        431,
    ),
    # The app reads these: its own 4xx.
    "chunk size not hex": (request(CHUNKED, b"zz\r\n{}\r\n0\r\n\r\n"), 400),
    "chunk without its CRLF": (request(CHUNKED, b"2\r\n{}XX0\r\n\r\n"), 400),
    "chunk extension with NUL": (request(CHUNKED, b"2;\x00\r\n{}\r\n0\r\n\r\n"), 400),
    "JSON nested 10,000 deep": (
        request(JSON + "Content-Length: 20000\r\n", b"[" * 10000 + b"]" * 10000),
        400,
    ),
    "chunked body over the limit": (
        request(CHUNKED, chunked(*[b" " * 65536] * 20)),
        413,
    ),
    "body over the limit": (request(JSON + "Content-Length: 2000000\r\n"), 413),
    "chunk over the limit, then broken": (
        request(CHUNKED, b"100000\r\n" + b" " * 0x100000 + b"XX"),
        400,
    ),
    "OPTIONS": (request("", method="OPTIONS"), 204),
}
# Refused by gunicorn once it has read the request line: it knows the method (a HEAD
# gets the head of the answer only), and logs an access line.
REFUSED_KNOWING_THE_METHOD = [
    "repeated Host",
    "repeated Content-Type",
    "Content-Length and chunked",
    "Content-Length -1",
    "two Content-Length",
    "Transfer-Encoding gzip alone",
    "HTTP/1.0 with chunked",
]
# Refused with some of the body unread: the answer closes the connection, which cannot
# carry a next request (nor be kept waiting for the rest).
BODY_LEFT_UNREAD = {
    "chunk size not hex",
    "chunk without its CRLF",
    "chunk extension with NUL",
    "chunked body over the limit",
    "body over the limit",
    "chunk over the limit, then broken",
}


def exchange(port: int, raw: bytes, timeout: float = 10.0):
    """Send `raw`, read the answer until the server closes or it is whole: (status,
    headers with lowercase names, body), or None when the server closed without a word.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with suppress(OSError):  # closed while we sent: the answer may be there still
            sock.sendall(raw)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            data += chunk
            if not chunk or whole(data):
                break
    if not data:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def whole(data: bytes) -> bool:
    head, found, body = data.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return True  # no body: 204, or a HEAD


class SlowClients:
    """`count` connections each sending a request a byte every `pause` seconds: in
    turn its head, its body of a known length and its chunked body, after what comes
    before at once. They connect again when the server closes, until stopped."""

    REQUESTS = (  # (sent at once, then a byte at a time)
        (b"", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100_000),
        (request(JSON + "Content-Length: 100000\r\n"), b"a" * 100_000),
        (request(CHUNKED), chunked(*[b"a"] * 100_000)),
    )

    def __init__(self, port: int, count: int = 16, pause: float = 0.5):
        self.port, self.pause = port, pause
        self.stop = threading.Event()
        self.started = threading.Semaphore(0)  # released by each one's first byte
        self.threads = [
            threading.Thread(target=self.dribble, args=[index], daemon=True)
            for index in range(count)
        ]

    def dribble(self, index: int):
        at_once, slowly = self.REQUESTS[index % len(self.REQUESTS)]
        started = False
        while not self.stop.is_set():
            try:
                with socket.create_connection(
                    ("127.0.0.1", self.port), timeout=5
                ) as sock:
                    sock.sendall(at_once)
                    for byte in slowly:
                        sock.send(bytes([byte]))
                        if not started:
                            started = True
                            self.started.release()
                        if self.stop.wait(self.pause):
                            return
            except OSError:  # the server gave up on us: again
                pass

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        for _ in self.threads:  # until all are connected and dribbling
            if not self.started.acquire(timeout=10):
                self.__exit__()
                raise TimeoutError("slow clients could not connect within 10 s")
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)


def probe(port: int, path: str = "/healthz", within: float = 1.0) -> bool:
    """Whether a fresh client gets a 200 within `within` seconds."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=within)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status == 200 and time.monotonic() - started < within
    except OSError:
        return False
    finally:
        connection.close()
