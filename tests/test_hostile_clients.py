"""The generated service against hostile and broken clients, served by the real gunicorn with its
own gunicorn.conf.py and three workers.

The malformed requests are the generated project's own corpus (tests/integration/hostile.py), sent
raw over sockets, many at once: each gets its 4xx, no worker exits (the same pids before and
after, and none logged as exited), and every line the server logs is JSON. Slow clients dribbling
requests (heads, bodies, chunked bodies) must not keep a fresh client from /healthz, and workers that come and go must leave
/metrics exact and its directory bounded.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("service")]


def corpus_module(service):
    """The baked project's tests/integration/hostile.py."""
    return service.module("tests/integration/hostile.py")


def test_a_flood_of_malformed_requests_gets_4xx_and_kills_no_worker(service):
    hostile = corpus_module(service)
    with service.serve() as server:
        before = server.workers()
        while len(before) < 3 or server.log.read_text().count("Booting worker") < 3:
            time.sleep(0.1)  # every worker up
            before = server.workers()
        cases = list(hostile.CORPUS.items()) * 10
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(lambda case: hostile.exchange(server.port, case[1][0]), cases))
        time.sleep(1)  # the master logs a worker's exit a moment after it
        assert server.workers() == before, "a worker died"
        lines = server.log.read_text().splitlines()
    for (name, (_, expected)), answer in zip(cases, answers, strict=True):
        assert answer is not None, f"{name}: closed without an answer"
        assert answer[0] == expected, name
    assert not [line for line in lines if "exited with code" in line]
    records = [json.loads(line) for line in lines]  # every line is JSON
    statuses = [record["status"] for record in records if record.get("event") == "request"]
    assert statuses and max(statuses) < 500  # (gunicorn logs no access line without a request line)


def test_slow_clients_leave_health_probes_answered(service):
    hostile = corpus_module(service)
    with service.serve() as server, hostile.SlowClients(server.port, count=16):
        probes = []
        end = time.monotonic() + 12  # past the 10 s a head may take: some are cut off meanwhile
        while time.monotonic() < end:
            probes.append(hostile.probe(server.port, within=1.0))
            time.sleep(0.1)
    assert len(probes) > 50
    assert probes.count(True) >= 0.99 * len(probes), f"{probes.count(False)} of {len(probes)} probes failed"


def test_worker_churn_keeps_metrics_exact_and_their_directory_bounded(service, tmp_path):
    hostile = corpus_module(service)
    directory = tmp_path / "metrics"
    directory.mkdir()
    with service.serve(GUNICORN_MAX_REQUESTS="10", PROMETHEUS_MULTIPROC_DIR=str(directory)) as server:
        with ThreadPoolExecutor(max_workers=4) as pool:
            answered = list(pool.map(lambda _: hostile.probe(server.port, "/test/pid", within=10), range(400)))
        time.sleep(1)  # the last retired workers are reaped
        files = sorted(path.name for path in directory.iterdir())
        # The live workers write what they counted every second.
        counted = 'http_requests_total{method="GET",route="/test/pid",status="200"} 400.0'
        deadline = time.monotonic() + 10
        while counted not in server.request("GET", "/metrics")[2].decode():
            assert time.monotonic() < deadline, "the counts never added up to 400"
            time.sleep(0.2)
        restarts = server.log.read_text().count("Booting worker") - 3
    assert all(answered)
    assert restarts >= 20, "too few workers came and went to prove anything"
    # A counter and a histogram file per live worker, an archive of each, and the lock.
    assert len(files) <= 3 * 2 + 3, files
