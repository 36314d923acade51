"""Raw HTTP for the unit tests that drive the gunicorn worker of server.py by hand, over
a socket pair (the fixtures `worker` and `pair`, in conftest.py)."""

ADDRESS = ("10.0.0.1", 51234)  # the client's, as gunicorn is told
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"


class App:
    """What gunicorn's worker asks for its WSGI app."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def wsgi(self):
        return self.wsgi_app


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


def answer_head(sock) -> tuple[bytes, dict[str, str]]:
    """(status line, headers) of an answer with no body, as to a HEAD."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    assert body == b"", body
    status, *lines = head.decode("latin-1").split("\r\n")
    return status.encode(), dict(line.split(": ", 1) for line in lines)
