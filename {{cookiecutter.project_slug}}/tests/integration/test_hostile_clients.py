"""Hostile and broken clients against gunicorn, over raw sockets: every one gets a 4xx
problem document, no worker dies, every log line stays JSON, and slow clients starve no
one."""

import json
import os

import pytest

from .hostile import (
    BODY_LEFT_UNREAD,
    CORPUS,
    REFUSED_KNOWING_THE_METHOD,
    SlowClients,
    as_head,
    exchange,
    probe,
)

pytestmark = pytest.mark.skipif(
    os.name == "nt", reason="gunicorn, the server under test, runs on Linux and macOS"
)
PROBLEM = "application/problem+json"


def worker_exits(server) -> list[str]:
    """A worker's own last line, written as it leaves its loop, and the master's when
    it finds one killed."""
    exits = ("Worker exiting", "exited with code", "was sent")
    return [line for line in server.log_lines() if any(e in line for e in exits)]


@pytest.mark.parametrize("name", CORPUS)
def test_each_malformed_request_gets_its_4xx(server, name):
    raw, expected = CORPUS[name]
    answer = exchange(server.port, raw)
    assert answer is not None, f"{name}: closed without an answer"
    status, headers, body = answer
    assert status == expected, name
    assert headers["x-content-type-options"] == "nosniff", name
    assert len(headers["x-request-id"]) == 32, name
    assert "server" not in headers, name
    if name in BODY_LEFT_UNREAD:
        assert headers["connection"] == "close", name
    if status != 204:
        assert headers["content-type"] == PROBLEM, name
        assert json.loads(body)["status"] == status, name
    else:
        assert "content-type" not in headers and body == b""


@pytest.mark.parametrize("name", REFUSED_KNOWING_THE_METHOD)
def test_a_head_gunicorn_refuses_gets_the_head_of_the_answer_only(server, name):
    raw, expected = CORPUS[name]
    # Read until the server closes: the Content-Length is the GET's (RFC 9110 9.3.2),
    # so an answer without the body is only whole then.
    answer = exchange(server.port, as_head(raw))
    assert answer is not None, f"{name}: closed without an answer"
    status, headers, body = answer
    assert (status, body) == (expected, b""), name
    assert headers["connection"] == "close", name
    assert headers["content-type"] == PROBLEM, name


def test_the_corpus_kills_no_worker_and_every_log_line_is_json(server):
    for raw, _ in CORPUS.values():
        exchange(server.port, raw)
    assert probe(server.port)
    assert worker_exits(server) == []
    lines = server.log_lines()
    assert server.count("Booting worker") == 2
    for line in lines:
        json.loads(line)
    assert not any('"status": 5' in line for line in lines)


def test_slow_clients_starve_no_one(server):
    # Twice as many as the server has threads (2 workers, 4 each); tests/ of the
    # template keeps them at it for longer, past the 10 s a head may take.
    with SlowClients(server.port, count=16):
        probes = [probe(server.port) for _ in range(20)]
    assert all(probes), f"{probes.count(False)} of 20 probes failed"
{%- if cookiecutter.metrics == "prometheus" %}


def test_metrics_stay_exact_and_bounded_as_workers_come_and_go(tmp_path):
    import urllib.request

    from .conftest import gunicorn, wait_for

    directory = tmp_path / "metrics"
    directory.mkdir()
    with gunicorn(
        tmp_path / "gunicorn.log",
        workers=1,
        GUNICORN_MAX_REQUESTS="2",
        PROMETHEUS_MULTIPROC_DIR=str(directory),
    ) as server:
        for _ in range(6):  # a worker retires after its second request
            assert probe(server.port, "/version", within=5)

        def replaced():
            # The master boots the next worker once it has folded the last one's counts.
            return server.count("Booting worker") == 1 + server.count("Autorestarting")

        wait_for(replaced, "each retired worker replaced")
        files = sorted(path.name for path in directory.iterdir())
        with urllib.request.urlopen(f"{server.url}/metrics", timeout=5) as response:
            text = response.read().decode()
        retired = server.count("Autorestarting")
    assert retired >= 3, "too few workers came and went to prove anything"
    counted = 'http_requests_total{method="GET",route="/version",status="200"}'
    assert f"{counted} 6.0" in text
    # Two files for the live worker (counter, histogram), two archives and the lock.
    assert len(files) <= 2 + 3, files
{%- endif %}
