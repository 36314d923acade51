"""Prometheus metrics at /metrics: requests and their latency by route and status, and
the process figures of the whole server.

gunicorn runs each worker as its own process: gunicorn.conf.py points
PROMETHEUS_MULTIPROC_DIR at a fresh directory where every worker keeps its counts, and a
scrape, whichever worker answers it, adds them all up. A worker counts its requests in
memory and writes them there in batches (RequestMetrics). When a worker exits, the
master folds its counts into one archive file per kind (retire_worker), so that neither
the directory nor the cost of a scrape grows with the number of workers that ever ran.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import structlog
from flask import Flask, Response
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
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.registry import Collector

LABELS = ["method", "route", "status"]
BUCKETS = Histogram.DEFAULT_BUCKETS
REQUESTS = Counter("http_requests", "HTTP requests answered.", LABELS)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time taken to answer HTTP requests.",
    LABELS,
    buckets=BUCKETS,
)
# Labels take values from short lists, so that no caller can make endless series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"  # 404 and 405: no route template, and never the raw path
# How often a worker writes its counts, which a worker killed by SIGKILL takes with it.
FLUSH_SECONDS = 1.0

log = structlog.get_logger(__name__)


def init_app(app: Flask) -> RequestMetrics:
    """/metrics, and the counter that per_request.py tells of every request."""
    multiprocess_mode = "PROMETHEUS_MULTIPROC_DIR" in os.environ
    counter = app.extensions["metrics"] = RequestMetrics(batched=multiprocess_mode)
    registry = REGISTRY
    if multiprocess_mode:
        registry = CollectorRegistry()
        WorkersCollector(registry)
        # Workers are forked by the gunicorn master (do not use preload_app): each one
        # loads the app, and so starts this thread, of its own.
        registry.register(ServerProcessCollector(os.getppid()))
        threading.Thread(target=counter.flush_every, daemon=True).start()

    @app.get("/metrics")
    def metrics() -> Response:
        counter.flush()  # this worker's latest
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

    return counter


def on_worker_exit(worker) -> None:
    """gunicorn's worker_exit hook, in the worker: what it counted since its last flush,
    written before the master folds its files (retire_worker). A reload (SIGHUP), a
    graceful stop and worker recycling all pass here."""
    app = getattr(worker, "wsgi", None)  # None: the app failed to load
    counter = getattr(app, "extensions", {}).get("metrics")
    if counter is not None:
        counter.flush()


class RequestMetrics:
    """Every request counted and timed, at little cost per request.

    A request adds to counts in this process's memory. flush() hands them on to
    prometheus_client, where in multiprocess mode every count is a locked write to a
    file, three a request. So under gunicorn, counts are flushed in batches: by a thread
    every FLUSH_SECONDS, before this worker answers /metrics, and when it exits. Else
    (tests, a single process) after every request, so that the registry is always exact.
    """

    def __init__(self, batched: bool) -> None:
        self.batched = batched
        self.lock = threading.Lock()  # around self.pending
        self.flushing = threading.Lock()  # one flush at a time, up to the files
        # Labels -> [seconds in all, then the number of requests in each bucket].
        self.pending: dict[tuple[str, str, str], list[float]] = {}

    def count(self, method: str, rule, status: str, seconds: float) -> None:
        """One request: its method, the werkzeug Rule it matched (or None), its status
        line and how long it took."""
        labels = (
            method if method in METHODS else "OTHER",
            rule.rule if rule else UNMATCHED,
            status[:3],
        )
        bucket = bisect_left(BUCKETS, seconds)  # the first bound >= seconds
        with self.lock:
            counts = self.pending.get(labels)
            if counts is None:
                counts = self.pending[labels] = [0.0] * (1 + len(BUCKETS))
            counts[0] += seconds
            counts[1 + bucket] += 1
        if not self.batched:
            self.flush()

    def flush(self) -> None:
        with self.flushing:
            with self.lock:
                pending, self.pending = self.pending, {}
            for labels, (seconds, *buckets) in pending.items():
                REQUESTS.labels(*labels).inc(sum(buckets))
                # Many observations at once, which Histogram.observe() cannot take:
                # written to the values it writes one observation to.
                latency = LATENCY.labels(*labels)
                latency._sum.inc(seconds)
                for value, count in zip(latency._buckets, buckets, strict=True):
                    if count:
                        value.inc(count)

    def flush_every(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            try:
                self.flush()
            except Exception:  # a full disk, say: these counts are lost, not later ones
                log.exception("metrics_flush_failed")


class WorkersCollector(multiprocess.MultiProcessCollector):
    """The counts of every worker, live or gone, read while none is being retired."""

    def collect(self):
        with locked(self._path, fcntl.LOCK_SH):
            return super().collect()


def retire_worker(pid: int, directory: str) -> None:
    """Fold the counts of worker `pid`, which exited, into the archive files. In the
    master (gunicorn's child_exit hook), while no scrape reads: no count is lost and
    none is read twice."""
    multiprocess.mark_process_dead(pid, directory)  # its live gauges go
    with locked(directory, fcntl.LOCK_EX):
        # Files are named <kind>_<pid>.db, or gauge_<mode>_<pid>.db.
        for path in Path(directory).glob(f"*_{pid}.db"):
            kind = path.name.split("_", 1)[0]
            if kind != "gauge":  # a gone worker's gauges mean nothing: dropped
                archive = MmapedDict(str(path.with_name(f"{kind}_archive.db")))
                try:
                    values = MmapedDict.read_all_values_from_file(str(path))
                    for key, value, timestamp, _ in values:
                        total = archive.read_value(key)[0] + value
                        archive.write_value(key, total, timestamp)
                finally:
                    archive.close()
            path.unlink()


@contextmanager
def locked(directory: str, operation: int) -> Iterator[None]:
    with open(os.path.join(directory, "lock"), "a") as lock:
        fcntl.flock(lock, operation)
        yield


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
