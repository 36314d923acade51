"""Hostile and broken clients against gunicorn, over raw sockets: every one gets a 4xx
problem document, no worker dies, every log line stays JSON, and slow clients starve no
one."""

import json
import os
import time

import pytest

from .hostile import CORPUS, SlowClients, exchange, probe

pytestmark = pytest.mark.skipif(
    os.name == "nt", reason="gunicorn, the server under test, runs on Linux and macOS"
)
PROBLEM = "application/problem+json"


def worker_exits(server) -> list[str]:
    return [line for line in server.log_lines() if "exited with code" in line]


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
    if status != 204:
        assert headers["content-type"] == PROBLEM, name
        assert json.loads(body)["status"] == status, name
    else:
        assert "content-type" not in headers and body == b""


def test_the_corpus_kills_no_worker_and_every_log_line_is_json(server):
    for raw, _ in CORPUS.values():
        exchange(server.port, raw)
    assert probe(server.port)
    time.sleep(0.5)  # an exit is logged by the master a moment later
    assert worker_exits(server) == []
    lines = server.log_lines()
    assert sum("Booting worker" in line for line in lines) == 2
    for line in lines:
        json.loads(line)
    assert not any('"status": 5' in line for line in lines)


def test_slow_clients_starve_no_one(server):
    with SlowClients(server.port, count=16):
        probes = []
        end = time.monotonic() + 5
        while time.monotonic() < end:
            probes.append(probe(server.port))
            time.sleep(0.1)
    assert len(probes) > 20 and all(probes), f"{probes.count(False)} probes failed"
{%- if cookiecutter.metrics == "prometheus" %}


def test_metrics_stay_exact_and_bounded_as_workers_come_and_go(tmp_path):
    import urllib.request

    from .conftest import gunicorn

    directory = tmp_path / "metrics"
    directory.mkdir()
    with gunicorn(
        tmp_path / "gunicorn.log",
        GUNICORN_MAX_REQUESTS="10",
        PROMETHEUS_MULTIPROC_DIR=str(directory),
    ) as server:
        for _ in range(150):
            assert probe(server.port, "/version", within=5)
        time.sleep(0.5)  # the last retired worker is reaped
        with urllib.request.urlopen(f"{server.url}/metrics", timeout=5) as response:
            text = response.read().decode()
        files = sorted(path.name for path in directory.iterdir())
        restarts = sum("Booting worker" in line for line in server.log_lines()) - 2
    assert restarts >= 10, "too few workers came and went to prove anything"
    counted = 'http_requests_total{method="GET",route="/version",status="200"}'
    assert f"{counted} 150.0" in text
    # Two files per live worker (counter, histogram), two archives and the lock.
    assert len(files) <= 2 * 2 + 3, files
{%- endif %}
