from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.values import MultiProcessValue

from {{ cookiecutter.package_name }} import create_app
from {{ cookiecutter.package_name }}.metrics import (
    LABELS,
    RequestMetrics,
    ServerProcessCollector,
    on_worker_exit,
    retire_worker,
)


def requests_counted(**labels):
    return REGISTRY.get_sample_value("http_requests_total", labels) or 0


def samples(response):
    """{(name, labels as sorted pairs): value} from a /metrics response."""
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


HEALTHZ_VALUES = ("GET", "/healthz", "200")
HEALTHZ = tuple(zip(LABELS, HEALTHZ_VALUES, strict=True))


def test_requests_are_counted_by_route_template_and_status(client):
    created = {"method": "POST", "route": "/api/v1/greetings", "status": "201"}
    missing = {"method": "GET", "route": "<unmatched>", "status": "404"}
    before = requests_counted(**created), requests_counted(**missing)
    client.post("/api/v1/greetings", json={"name": "Ada"})
    client.post("/api/v1/greetings", json={"name": "Bob"})
    client.get("/no/such/path")
    after = requests_counted(**created), requests_counted(**missing)
    assert (after[0] - before[0], after[1] - before[1]) == (2, 1)


def test_latency_is_observed(client):
    labels = {"method": "GET", "route": "/healthz", "status": "200"}
    before = REGISTRY.get_sample_value("http_request_duration_seconds_count", labels)
    client.get("/healthz")
    after = REGISTRY.get_sample_value("http_request_duration_seconds_count", labels)
    assert after == (before or 0) + 1


def test_unknown_methods_share_one_label(client):
    labels = {"method": "OTHER", "route": "<unmatched>", "status": "405"}
    before = requests_counted(**labels)
    client.open("/healthz", method="BREW")
    assert requests_counted(**labels) == before + 1


def test_metrics_endpoint_speaks_prometheus(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.mimetype == "text/plain"
    found = samples(response)
    assert found["http_requests_total", HEALTHZ] >= 1
    assert found["http_request_duration_seconds_count", HEALTHZ] >= 1


def histogram(labels):
    """{bucket bound or "sum" or "count": value} of the latency histogram."""
    found = dict.fromkeys(("0.005", "0.25", "0.5", "+Inf", "sum", "count"), 0)
    for family in REGISTRY.collect():  # once: each get_sample_value collects them all
        if family.name == "http_request_duration_seconds":
            for sample in family.samples:
                key = sample.labels.pop("le", sample.name.rpartition("_")[2])
                if sample.labels == labels and key in found:
                    found[key] = sample.value
    return found


def test_batched_counts_reach_the_registry_when_flushed_as_observe_would(app):
    labels = {"method": "PUT", "route": "/batched", "status": "204"}
    counter = RequestMetrics(batched=True)
    before = requests_counted(**labels), histogram(labels)
    rule = SimpleNamespace(rule="/batched")
    for seconds in (0.004, 0.25, 0.3, 12.0):  # a bound itself belongs to its bucket
        counter.count("PUT", rule, "204 No Content", seconds)
    assert (requests_counted(**labels), histogram(labels)) == before
    app.extensions["metrics"] = counter
    on_worker_exit(SimpleNamespace(wsgi=app))  # gunicorn's worker_exit hook
    added = {key: histogram(labels)[key] - before[1][key] for key in before[1]}
    assert requests_counted(**labels) - before[0] == 4
    assert added == {
        "0.005": 1,  # buckets count what is at most their bound
        "0.25": 2,
        "0.5": 3,
        "+Inf": 4,
        "sum": pytest.approx(0.004 + 0.25 + 0.3 + 12.0),
        "count": 4,
    }
    counter.flush()  # nothing twice
    assert requests_counted(**labels) - before[0] == 4


def test_a_worker_that_failed_to_load_the_app_exits_quietly():
    on_worker_exit(SimpleNamespace())


def test_under_gunicorn_metrics_come_from_every_worker(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "testing")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    # What a worker with pid 4242 left in the directory.
    worker_value = MultiProcessValue(process_identifier=lambda: 4242)
    counter = worker_value(
        "counter", "http_requests", "http_requests_total", LABELS, HEALTHZ_VALUES, ""
    )
    counter.inc(3)
    found = samples(create_app().test_client().get("/metrics"))
    assert found["http_requests_total", HEALTHZ] == 3


def test_gone_workers_are_folded_into_one_archive_counting_the_same(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("APP_ENV", "testing")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    client = create_app().test_client()
    for pid, count in [(4242, 3), (4243, 4), (4244, 5)]:
        value = MultiProcessValue(process_identifier=lambda pid=pid: pid)
        value(
            "counter",
            "http_requests",
            "http_requests_total",
            LABELS,
            HEALTHZ_VALUES,
            "",
        ).inc(count)
        latency = value(
            "histogram",
            "http_request_duration_seconds",
            "http_request_duration_seconds_count",
            LABELS,
            HEALTHZ_VALUES,
            "",
        )
        latency.inc(count)
        gauge = value("gauge", "g", "g", (), (), "", multiprocess_mode="all")
        gauge.set(1)
    expected = {
        ("http_requests_total", HEALTHZ): 12,
        ("http_request_duration_seconds_count", HEALTHZ): 12,
    }
    for pid in (4242, 4243):
        retire_worker(pid, str(tmp_path))
        found = samples(client.get("/metrics"))
        assert expected.items() <= found.items()
    left = sorted(path.name for path in tmp_path.iterdir())
    assert left == [
        "counter_4244.db",
        "counter_archive.db",
        "gauge_all_4244.db",
        "histogram_4244.db",
        "histogram_archive.db",
        "lock",
    ]


def stat_line(pid, command, parent, cpu=(0, 0, 0, 0), start=0, pages=0):
    """A /proc/PID/stat line: fields after the command name start at index 0."""
    fields = ["S", parent, *[0] * 9, *cpu, *[0] * 4, start, 0, pages]
    return f"{pid} ({command}) " + " ".join(map(str, fields)) + "\n"


@pytest.fixture
def proc(tmp_path):
    """A /proc with a master (100), two workers, a stranger and an exited process."""
    (tmp_path / "stat").write_text("cpu  1 2 3\nbtime 1700000000\n")
    processes = {
        100: stat_line(100, "gunicorn: master", 1, (300, 100, 50, 50), 500, 10),
        101: stat_line(101, "gunicorn: worker (a) b", 100, (200, 100, 7, 7), 0, 20),
        102: stat_line(102, "gunicorn: worker", 100, (100, 100, 0, 0), 0, 30),
        103: stat_line(103, "bash", 1, (999, 999, 0, 0), 0, 999),
    }
    for pid, line in processes.items():
        (tmp_path / str(pid) / "fd").mkdir(parents=True)
        (tmp_path / str(pid) / "stat").write_text(line)
        for fd in range(3):
            (tmp_path / str(pid) / "fd" / str(fd)).touch()
    (tmp_path / "102" / "fd").rename(tmp_path / "102" / "gone")  # exiting
    (tmp_path / "104").mkdir()  # exited between listing and reading
    (tmp_path / "self").mkdir()
    return tmp_path


def test_process_figures_add_up_the_master_and_its_workers(monkeypatch, proc):
    sysconf = {"SC_CLK_TCK": 100, "SC_PAGE_SIZE": 4096}.get
    monkeypatch.setattr("os.sysconf", sysconf, raising=False)  # Windows has none
    collector = ServerProcessCollector(100, proc=str(proc))
    found = {m.name: m.samples[0].value for m in collector.collect()}
    assert found == {
        # The master's CPU with its reaped children's, and its workers' own.
        "process_cpu_seconds": (300 + 100 + 50 + 50 + 200 + 100 + 100 + 100) / 100,
        "process_resident_memory_bytes": (10 + 20 + 30) * 4096,
        "process_open_fds": 3 + 3,
        "process_start_time_seconds": 1700000000 + 5,
    }


def test_no_process_figures_without_proc(tmp_path):
    assert list(ServerProcessCollector(1, proc=str(tmp_path / "none")).collect()) == []
