"""The generated service under load, served by the real gunicorn with its own gunicorn.conf.py
(`Baked.serve`), with the test-only routes of conftest.py's TEST_APP.

A bounded client in the test (threads with http.client, on loopback) keeps requests going while
the master gets SIGHUP or SIGTERM; every request must get its answer.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from helpers import Server, answers, bake

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("service")]


@dataclass
class Load:
    """Clients that keep sending requests until told to stop (or a bound is reached)."""

    server: Server
    clients: int = 6
    path: str = "/healthz"
    max_requests: int = 3000  # per client
    max_seconds: float = 30.0
    stop: threading.Event = field(default_factory=threading.Event)
    results: list = field(default_factory=list)  # (started, status or the exception)

    def __post_init__(self):
        self.threads = [threading.Thread(target=self.client, daemon=True) for _ in range(self.clients)]

    def client(self):
        end = time.monotonic() + self.max_seconds
        for _ in range(self.max_requests):
            if self.stop.is_set() or time.monotonic() > end:
                return
            started = time.monotonic()
            try:
                outcome = self.server.request("GET", self.path)[0]
            except OSError as error:
                outcome = error
            self.results.append((started, outcome))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def failures(self):
        return [(started, outcome) for started, outcome in self.results if outcome != 200]


def in_thread(function, *args):
    """Run `function(*args)` in a thread; returns a callable that joins it and gives its result."""
    result = {}

    def target():
        try:
            result["value"] = function(*args)
        except OSError as error:
            result["value"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()

    def join():
        thread.join(timeout=60)
        return result.get("value")

    return join


def test_sighup_replaces_every_worker_and_loses_no_request(service):
    with service.serve() as server:
        before = server.workers()
        # Slow requests too, so that each old worker has one in hand when told to go.
        slow = "/test/slow?seconds=0.1"
        with Load(server, clients=4) as fast, Load(server, clients=4, path=slow) as slow:
            time.sleep(1)
            server.process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 20
            while server.workers() & before or len(server.workers()) < 3:
                assert time.monotonic() < deadline, "the old workers were not replaced"
                time.sleep(0.1)
            time.sleep(1)  # and load on the new ones
        assert server.workers().isdisjoint(before)
    assert len(fast.results) > 100 and len(slow.results) > 50, "too little load to prove anything"
    assert fast.failures() == [] and slow.failures() == []


def test_sigterm_turns_readyz_503_and_finishes_every_accepted_request(service):
    drain = 2.0
    timings = {"SHUTDOWN_DRAIN_SECONDS": str(drain), "GUNICORN_GRACEFUL_TIMEOUT": "15"}
    # Four workers: two busy with slow requests, one with a slow request sent during the
    # drain, and at least one for the load and the probes.
    with service.serve(WEB_CONCURRENCY="4", **timings) as server:
        slow_before = [in_thread(server.request, "GET", "/test/slow?seconds=3") for _ in range(2)]
        probes: list[tuple[float, int | OSError]] = []
        not_ready = threading.Event()

        def probe():
            while server.process.poll() is None:
                try:
                    status = server.request("GET", "/readyz", timeout=2)[0]
                except OSError as error:
                    status = error
                probes.append((time.monotonic(), status))
                if status == 503:
                    not_ready.set()
                time.sleep(0.05)

        prober = threading.Thread(target=probe, daemon=True)
        with Load(server, clients=4) as load:
            time.sleep(0.5)  # the slow requests are in the workers' hands
            prober.start()
            sigterm = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            # Requests a load balancer still sends before it sees the 503, slow ones too.
            slow_during = in_thread(server.request, "GET", "/test/slow?seconds=1")
            assert not_ready.wait(timeout=drain), "/readyz did not turn 503 during the drain"
            # ... then it sends no more.
        returncode = server.process.wait(timeout=30)
        exited = time.monotonic()
        prober.join(timeout=5)

        assert returncode == 0
        for result in [*slow_before, slow_during]:
            status = result()
            assert not isinstance(status, OSError), f"a slow request in flight failed: {status!r}"
            assert status[0] == 200
        assert load.failures() == []
        assert any(started > sigterm for started, _ in load.results), "no request during the drain"
        first_503 = next(at for at, status in probes if status == 503)
        assert sigterm < first_503 < sigterm + 1.0 < exited
        assert drain <= exited - sigterm < 15
        after = [status for at, status in probes if at > first_503]
        assert 200 not in after, "ready again while shutting down"


def scrape(server) -> dict[str, float]:
    """{'name{labels}': value} from /metrics."""
    status, _, body = server.request("GET", "/metrics")
    assert status == 200
    lines = [line for line in body.decode().splitlines() if line and not line.startswith("#")]
    return {name: float(value) for name, value in (line.rsplit(" ", 1) for line in lines)}


PID_LABELS = '{method="GET",route="/test/pid",status="200"}'


def sixty_requests(server) -> None:
    """60 GET /test/pid from 6 threads, answered by more than one worker."""

    def worker_pid(_):
        status, _, body = server.request("GET", "/test/pid")
        return status, json.loads(body)["pid"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(worker_pid, range(60)))
    assert {status for status, _ in answers} == {200}
    assert len({pid for _, pid in answers}) > 1, "one worker served all: nothing proved"


def test_metrics_count_the_requests_of_every_worker(service):
    with service.serve() as server:
        sixty_requests(server)
        # Each worker writes its counts every second: then any worker's scrape has them all.
        deadline = time.monotonic() + 10
        while scrape(server).get(f"http_requests_total{PID_LABELS}") != 60:
            assert time.monotonic() < deadline, "the workers' counts never added up to 60"
            time.sleep(0.2)
        for _ in range(6):  # whichever worker answers the scrape
            found = scrape(server)
            assert found[f"http_requests_total{PID_LABELS}"] == 60
            assert found[f"http_request_duration_seconds_count{PID_LABELS}"] == 60
            assert found["process_resident_memory_bytes"] > 0
            assert found["process_cpu_seconds_total"] > 0


def test_metrics_lose_no_count_to_a_reload(service):
    # A worker writes its counts only when it answers /metrics or exits (worker_exit):
    # no thread every second here.
    with service.serve(TEST_FLUSH_SECONDS="3600") as server:
        before = server.workers()
        sixty_requests(server)
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while server.workers() & before or len(server.workers()) < 3:
            assert time.monotonic() < deadline, "the old workers were not replaced"
            time.sleep(0.1)
        found = scrape(server)  # by a new worker, which counted nothing yet
    assert found[f"http_requests_total{PID_LABELS}"] == 60
    assert found[f"http_request_duration_seconds_count{PID_LABELS}"] == 60


def test_a_metrics_directory_that_was_set_starts_empty_each_time(service, tmp_path):
    # The owner's own directory: it may be missing, or hold what a killed server left.
    directory = tmp_path / "metrics"
    with service.serve(PROMETHEUS_MULTIPROC_DIR=str(directory)) as server:
        sixty_requests(server)
        scrape(server)  # this worker's counts written
        for pid in [*server.workers(), server.process.pid]:  # killed: nothing cleans up
            os.kill(pid, signal.SIGKILL)
        server.process.wait(timeout=10)
    assert list(directory.glob("*.db")), "the killed server left no counts: nothing proved"
    for _ in range(2):  # and again after a clean stop, which removes the directory
        with service.serve(PROMETHEUS_MULTIPROC_DIR=str(directory)) as server:
            assert f"http_requests_total{PID_LABELS}" not in scrape(server)


PROBLEM = "application/problem+json"
API_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}
JSON = {"Content-Type": "application/json"}
BAD_REQUESTS = {
    # what: (method, path, body, headers, status)
    "malformed JSON": ("POST", "/api/v1/greetings", b'{"name": ', JSON, 400),
    "too large a body": ("POST", "/api/v1/greetings", b"x" * (2 * 1024 * 1024), JSON, 413),
    "unknown route": ("GET", "/no/such/route", None, {}, 404),
    "wrong method": ("DELETE", "/api/v1/greetings", None, {}, 405),
    "not JSON": ("POST", "/api/v1/greetings", b"name=Ada", {"Content-Type": "text/plain"}, 415),
}


def test_headers_and_json_errors_over_the_wire(service):
    with service.serve() as server:
        status, headers, body = server.request("GET", "/healthz")
        assert status == 200
        assert {name: headers[name] for name in API_HEADERS} == API_HEADERS
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
        assert len(headers["X-Request-ID"]) == 32
        assert "Server" not in headers
        for what, (method, path, body, request_headers, expected) in BAD_REQUESTS.items():
            status, headers, answer = server.request(method, path, body, request_headers)
            assert status == expected, what
            assert headers["Content-Type"] == PROBLEM, what
            problem = json.loads(answer)
            assert problem["status"] == expected and problem["title"], what
            assert headers["X-Content-Type-Options"] == "nosniff", what
        assert "POST" in server.request("DELETE", "/api/v1/greetings")[1]["Allow"]
        assert b"Traceback" not in server.log.read_bytes()


@pytest.mark.parametrize("metrics", answers.CHOICES["metrics"])
@pytest.mark.parametrize("error_tracking", answers.CHOICES["error_tracking"])
def test_an_answer_off_leaves_no_code_and_no_dependency(cookies, metrics, error_tracking):
    """test_generated_project.py runs each combination's own checks; here, what it holds."""
    project = bake(cookies, metrics=metrics, error_tracking=error_tracking)
    dependencies = " ".join(project.toml("pyproject.toml")["project"]["dependencies"])
    sources = " ".join(path.read_text("utf-8") for path in project.files() if path.suffix == ".py")
    assert ("prometheus" in dependencies) == ("prometheus" in sources) == (metrics == "prometheus")
    assert ("sentry" in dependencies) == ("sentry" in sources) == (error_tracking == "sentry")
