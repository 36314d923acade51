"""When a request's body is all in, for the worker's event loop to hand the request to a
thread only then (server.py)."""

from __future__ import annotations

import re

HEAD_END = b"\r\n\r\n"
# A head that may announce a body: the others have none.
FRAMING = re.compile(rb"\n(?:content-length|transfer-encoding):", re.IGNORECASE)
EXPECT_CONTINUE = re.compile(rb"\nexpect:[ \t]*100-continue[ \t]*\r\n")


def awaited_body(head: bytes, longest: int, longest_line: int):
    """What tells when the body of a request with this head (in lower case) is all in,
    or None if there is none to wait for: no body, or one that gunicorn or the app
    refuses unread (framing in doubt, a Content-Length over `longest`)."""
    lengths = head.count(b"\ncontent-length:")
    codings = head.count(b"\ntransfer-encoding:")
    if codings == 1 and not lengths and field(head, b"transfer-encoding") == b"chunked":
        return ChunkedBody(len(head), longest, longest_line)
    if lengths != 1 or codings:
        return None
    length = field(head, b"content-length")
    if not length.isdigit() or not 0 < int(length) <= longest:
        return None
    end = len(head) + int(length)
    return lambda received: len(received) >= end


def field(head: bytes, name: bytes) -> bytes:
    start = head.index(b"\n" + name + b":") + len(name) + 2
    return head[start : head.index(b"\r\n", start)].strip(b" \t")


class ChunkedBody:
    """Whether a chunked body (RFC 9112, 7.1) is all in: its last chunk and trailers.
    Framing that gunicorn refuses (400) is handed on as soon as it shows, and a body
    longer than `longest` (413) once the app can see it is."""

    HEX = b"0123456789abcdefABCDEF"
    # Data past the limit that the app needs to tell a body is longer (413): it reads
    # a byte more, which gunicorn reads a kilobyte at a time.
    PAST = 1 + 1024

    def __init__(self, start: int, longest: int, longest_line: int) -> None:
        self.chunk = start  # where the next chunk's size line starts
        self.left = longest  # bytes of data the app takes
        self.longest_line = longest_line

    def __call__(self, received: bytearray) -> bool:
        while True:
            line_end = received.find(b"\r\n", self.chunk)
            if line_end == -1:
                return len(received) - self.chunk > self.longest_line
            digits = received[self.chunk : line_end].split(b";", 1)[0].rstrip(b" \t")
            if not digits or digits.strip(self.HEX):
                return True  # not a chunk size
            size = int(digits, 16)
            if size == 0:  # the last chunk: then trailers, and an empty line
                return received.find(HEAD_END, line_end) != -1
            data_end = line_end + 2 + size
            if len(received) < data_end + 2:
                return len(received) - (line_end + 2) > self.left + self.PAST
            if received[data_end : data_end + 2] != b"\r\n":
                return True  # the chunk does not end where its size says
            self.chunk, self.left = data_end + 2, self.left - size
