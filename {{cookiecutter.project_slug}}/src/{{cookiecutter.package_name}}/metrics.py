"""Prometheus metrics at /metrics: requests and their latency by route and status, and
the process figures of the whole server.

gunicorn runs each worker as its own process: gunicorn.conf.py points
PROMETHEUS_MULTIPROC_DIR at a fresh directory where every worker keeps its counts, and a
scrape, whichever worker answers it, adds them all up.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from time import perf_counter

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

LABELS = ["method", "route", "status"]
REQUESTS = Counter("http_requests", "HTTP requests answered.", LABELS)
LATENCY = Histogram(
    "http_request_duration_seconds", "Time taken to answer HTTP requests.", LABELS
)
# Labels take values from short lists, so that no caller can make endless series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"  # 404 and 405: no route template, and never the raw path


def init_app(app: Flask) -> None:
    registry = REGISTRY
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        # Workers are forked by the gunicorn master (do not use preload_app).
        registry.register(ServerProcessCollector(os.getppid()))
    # The same few label sets come back request after request: look each up once.
    series: dict[tuple[str, str, int], tuple] = {}

    @app.before_request
    def start_timer() -> None:
        g.metrics_start = perf_counter()

    @app.after_request
    def record_request(response: Response) -> Response:
        now = perf_counter()
        elapsed = now - g.get("metrics_start", now)
        method = request.method if request.method in METHODS else "OTHER"
        rule = request.url_rule
        key = (method, rule.rule if rule else UNMATCHED, response.status_code)
        if key not in series:
            series[key] = (REQUESTS.labels(*key), LATENCY.labels(*key))
        requests, latency = series[key]
        requests.inc()
        latency.observe(elapsed)
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class ServerProcessCollector(Collector):
    """process_* figures of the whole server: the gunicorn master and its workers.

    A scrape reaches any one worker, whose own figures would jump from scrape to scrape.
    CPU time includes that of exited workers, which the master has reaped.
    """

    def __init__(self, master: int, proc: str = "/proc") -> None:
        self.master = master
        self.proc = proc

    def collect(self) -> Iterator[Metric]:
        if not os.path.isdir(self.proc):  # not Linux
            return
        ticks = os.sysconf("SC_CLK_TCK")
        # Fields after the command name: [1] parent, [11:15] user and system CPU time of
        # the process and of its reaped children, [19] start time, [21] resident pages.
        master = self.stat(self.master)
        cpu = sum(int(field) for field in master[11:15])
        pages = int(master[21])
        fds = self.open_fds(self.master)
        for pid, stat in self.children():
            cpu += int(stat[11]) + int(stat[12])
            pages += int(stat[21])
            fds += self.open_fds(pid)
        yield CounterMetricFamily(
            "process_cpu_seconds", "Total user and system CPU time.", value=cpu / ticks
        )
        yield GaugeMetricFamily(
            "process_resident_memory_bytes",
            "Resident memory size.",
            value=pages * os.sysconf("SC_PAGE_SIZE"),
        )
        yield GaugeMetricFamily("process_open_fds", "Open file descriptors.", value=fds)
        yield GaugeMetricFamily(
            "process_start_time_seconds",
            "Start time of the server since the Unix epoch.",
            value=self.boot_time() + int(master[19]) / ticks,
        )

    def stat(self, pid: int | str) -> list[bytes]:
        with open(f"{self.proc}/{pid}/stat", "rb") as file:
            return file.read().rsplit(b")", 1)[1].split()

    def children(self) -> Iterator[tuple[str, list[bytes]]]:
        for entry in os.scandir(self.proc):
            if entry.name.isdigit():
                try:
                    stat = self.stat(entry.name)
                except OSError:  # gone meanwhile
                    continue
                if int(stat[1]) == self.master:
                    yield entry.name, stat

    def open_fds(self, pid: int | str) -> int:
        try:
            return len(os.listdir(f"{self.proc}/{pid}/fd"))
        except OSError:  # gone meanwhile
            return 0

    def boot_time(self) -> float:
        with open(f"{self.proc}/stat", "rb") as file:
            return next(float(line[6:]) for line in file if line.startswith(b"btime "))
