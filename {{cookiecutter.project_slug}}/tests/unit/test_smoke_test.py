"""scripts/smoke_test.py against a stand-in service on a free local port."""

import json
import socket
from http.server import BaseHTTPRequestHandler

import pytest
import smoke_test

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class Answers(BaseHTTPRequestHandler):
    """Answers each path from `server.answers[path]`: one (status, body) per request,
    the last one repeated."""

    def do_GET(self):
        queue = self.server.answers[self.path]
        status, body = queue.pop(0) if len(queue) > 1 else queue[0]
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        """Keep the test output quiet."""


@pytest.fixture(scope="module")
def server(serve):
    return serve(Answers)


@pytest.fixture
def service(server):
    """The stand-in service, ready and on the commit until a test answers otherwise."""
    server.answers = {
        "/readyz": [(200, {"status": "ready"})],
        "/version": [(200, {"name": "svc", "version": "1.0", "commit": COMMIT})],
    }
    return server


def smoke(url, *options):
    return smoke_test.main([url, "--interval", "0", "--wait", "0", *options])


def test_passes_when_ready_and_on_the_commit(service, capsys):
    assert smoke(service.url, "--commit", COMMIT) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"smoke test passed: {service.url} is ready (try 1, ")
    assert out.endswith(f"runs commit {COMMIT}\n")


def test_a_short_commit_matches_the_full_one(service):
    assert smoke(service.url + "/", "--commit", COMMIT[:7]) == 0


def test_waits_until_ready(service, capsys):
    not_yet = (503, {"status": "unavailable", "failing": ["shutting_down"]})
    service.answers["/readyz"] = [not_yet, not_yet, (200, {"status": "ready"})]
    assert smoke_test.main([service.url, "--commit", COMMIT, "--interval", "0"]) == 0
    assert "(try 3, " in capsys.readouterr().out


def test_fails_in_one_line_when_never_ready(service, capsys):
    service.answers["/readyz"] = [(503, {"status": "unavailable", "failing": ["db"]})]
    assert smoke(service.url, "--commit", COMMIT) == 1
    assert capsys.readouterr().err == (
        f"smoke test failed: {service.url}/readyz answered 503 (failing: db);"
        " gave up after 1 tries in 0 s\n"
    )


def test_a_503_without_json_is_reported_by_status(service, capsys):
    service.answers["/readyz"] = [(503, b"Service Unavailable")]
    assert smoke(service.url, "--commit", COMMIT) == 1
    assert "/readyz answered 503;" in capsys.readouterr().err


def test_fails_when_another_commit_runs(service, capsys):
    service.answers["/version"] = [(200, {"commit": "feedface"})]
    assert smoke(service.url, "--commit", COMMIT) == 1
    assert capsys.readouterr().err == (
        f"smoke test failed: {service.url}/version reports commit 'feedface',"
        f" expected {COMMIT!r}: the release is not running\n"
    )


def test_an_image_built_without_a_commit_fails(service, capsys):
    service.answers["/version"] = [(200, {"commit": "unknown"})]
    assert smoke(service.url, "--commit", COMMIT) == 1
    assert "reports commit 'unknown'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ((404, {"status": 404}), "/version answered 404"),
        ((200, b"<html>"), "/version did not answer JSON with a commit"),
        ((200, ["no", "commit"]), "/version did not answer JSON with a commit"),
    ],
)
def test_fails_when_version_is_wrong(service, capsys, answer, message):
    service.answers["/version"] = [answer]
    assert smoke(service.url, "--commit", COMMIT) == 1
    assert message in capsys.readouterr().err


def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_fails_when_nothing_listens(capsys):
    url = closed_port_url()
    assert smoke(url, "--commit", COMMIT) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"smoke test failed: {url}/readyz did not answer (")


def test_fails_when_version_stops_answering(service, monkeypatch, capsys):
    def refuse(url, timeout):
        raise ConnectionRefusedError("refused")

    monkeypatch.setattr(smoke_test, "wait_until_ready", lambda *args: 1)
    monkeypatch.setattr(smoke_test, "fetch", refuse)
    assert smoke(service.url, "--commit", COMMIT) == 1
    assert "/version did not answer (refused)" in capsys.readouterr().err


def test_polls_a_bounded_number_of_times():
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    with pytest.raises(
        smoke_test.SmokeTestFailed, match="gave up after 3 tries in 10 s"
    ):
        smoke_test.wait_until_ready(
            closed_port_url(),
            wait=10,
            interval=5,
            timeout=0.2,
            clock=lambda: now[0],
            sleep=sleep,
        )
    assert now[0] == 10


@pytest.mark.parametrize(
    "argv",
    [
        ["ftp://example.com", "--commit", COMMIT],
        ["example.com", "--commit", COMMIT],
        ["https://example.com", "--commit", " "],
        ["https://example.com", "--commit", "unknown"],
        ["https://example.com", "--commit", "abc12"],
        ["https://example.com"],
    ],
)
def test_bad_arguments_exit_2(argv):
    with pytest.raises(SystemExit) as exit_:
        smoke_test.main(argv)
    assert exit_.value.code == 2
