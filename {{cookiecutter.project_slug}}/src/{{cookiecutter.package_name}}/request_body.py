"""When a request's body is all in, for the worker's event loop to hand the request to a
thread only then (server.py); and what is refused before that."""

from __future__ import annotations

import re

HEAD_END = b"\r\n\r\n"
# A head that may announce a body: the others have none.
FRAMING = re.compile(rb"\n(?:content-length|transfer-encoding):", re.IGNORECASE)
EXPECT_CONTINUE = re.compile(rb"\nexpect:[ \t]*100-continue[ \t]*\r\n")
TOO_LARGE = "The data value transmitted exceeds the capacity limit."  # as the app's 413


class Refused(Exception):
    """A request answered by the server, unread: `status`, and why."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def awaited_body(head: bytes, longest: int, longest_line: int):
    """What tells when the body of a request with this head (in lower case) is all in,
    or None for one not to wait for, that gunicorn or the app refuses unread (framing in
    doubt, a Content-Length over `longest`)."""
    lengths = head.count(b"\ncontent-length:")
    codings = head.count(b"\ntransfer-encoding:")
    if codings == 1 and not lengths:
        coding = field(head, b"transfer-encoding")
        if coding == b"chunked":
            return ChunkedBody(len(head), longest, longest_line)
        if coding.rsplit(b",", 1)[-1].strip(b" \t") == b"chunked":  # gunicorn takes it
            raise Refused(501, "No transfer coding but chunked is implemented.")
    if lengths != 1 or codings:
        return None
    length = field(head, b"content-length")
    if not length.isdigit() or int(length) > longest:
        return None
    end = len(head) + int(length)
    return lambda received: len(received) >= end


def field(head: bytes, name: bytes) -> bytes:
    start = head.index(b"\n" + name + b":") + len(name) + 2
    return head[start : head.index(b"\r\n", start)].strip(b" \t")


def bare_lf(received: bytearray, start: int) -> bool:
    """Whether a line from `start` on ends in a bare LF: gunicorn refuses it (400)."""
    return received.count(b"\n", start) != received.count(b"\r\n", max(start - 1, 0))


class ChunkedBody:
    """Whether a chunked body (RFC 9112, 7.1) is all in: its last chunk and trailers.
    Framing that gunicorn refuses (400) is handed on as soon as it shows; a chunk that
    takes the body past `longest` is Refused (413)."""

    HEX = b"0123456789abcdefABCDEF"

    def __init__(self, start: int, longest: int, longest_line: int) -> None:
        self.chunk = start  # where the next chunk's size line starts
        self.left = longest  # bytes of data the app takes
        self.longest_line = longest_line

    def __call__(self, received: bytearray) -> bool:
        while True:
            line_end = received.find(b"\n", self.chunk)
            if line_end == -1:
                return len(received) - self.chunk > self.longest_line
            if received[line_end - 1] != ord("\r"):  # gunicorn waits for a CRLF
                raise Refused(400, "A line of the chunked body ends in a bare LF.")
            line_end -= 1
            digits = received[self.chunk : line_end].split(b";", 1)[0].rstrip(b" \t")
            if not digits or digits.strip(self.HEX):
                return True  # not a chunk size
            size = int(digits, 16)
            if size == 0:  # the last chunk: then trailers, and an empty line
                trailers = line_end + 2
                return received.find(HEAD_END, line_end) != -1 or bare_lf(
                    received, trailers
                )
            if size > self.left:
                raise Refused(413, TOO_LARGE)
            data_end = line_end + 2 + size
            if len(received) < data_end + 2:
                return False
            if received[data_end : data_end + 2] != b"\r\n":
                return True  # the chunk does not end where its size says
            self.chunk, self.left = data_end + 2, self.left - size
