from types import SimpleNamespace

import pytest

from {{ cookiecutter.package_name }} import shutdown


class Signals:
    """Stands in for the signal module: keeps handlers and the timer, sends nothing."""

    SIGTERM, SIGALRM, ITIMER_REAL = 15, 14, 0

    def __init__(self):
        self.handlers = {}
        self.timer = None

    def getsignal(self, signum):
        return self.handlers.get(signum)

    def signal(self, signum, handler):
        self.handlers[signum] = handler

    def setitimer(self, which, seconds):
        self.timer = seconds

    def send(self, signum):
        self.handlers[signum](signum, None)


@pytest.fixture
def signals(monkeypatch):
    monkeypatch.setattr(shutdown, "signal", Signals())
    monkeypatch.setattr(shutdown, "stopping", bytearray(1))
    return shutdown.signal


@pytest.fixture
def worker(app, signals):
    """A gunicorn worker as the hook sees it: its SIGTERM handler just records."""
    worker = SimpleNamespace(wsgi=app, stopped=[])
    signals.signal(signals.SIGTERM, lambda signum, frame: worker.stopped.append(signum))
    return worker


def test_the_master_marks_the_server_stopping_then_stops_as_before(signals):
    stopped = []
    signals.signal(signals.SIGTERM, lambda signum, frame: stopped.append(signum))
    shutdown.on_master_ready(server=None)
    signals.send(signals.SIGTERM)
    assert shutdown.stopping[0] == 1
    assert stopped == [signals.SIGTERM]


def test_a_stopping_server_drains_before_each_worker_stops(app, worker, signals):
    client = app.test_client()
    shutdown.on_worker_ready(worker, drain=5)
    shutdown.stopping[0] = 1
    signals.send(signals.SIGTERM)
    # Draining: not ready, yet serving, and gunicorn not told to stop yet.
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200
    assert worker.stopped == []
    assert signals.timer == 5
    signals.send(signals.SIGTERM)  # a second SIGTERM does not cut the drain short
    assert worker.stopped == []
    signals.send(signals.SIGALRM)  # the drain is over
    assert worker.stopped == [signals.SIGTERM]


def test_a_retired_worker_stops_at_once_and_stays_ready(app, worker, signals):
    shutdown.on_worker_ready(worker, drain=5)
    signals.send(signals.SIGTERM)  # a reload: the server itself is not stopping
    assert worker.stopped == [signals.SIGTERM]
    assert app.test_client().get("/readyz").status_code == 200
    assert signals.timer is None


def test_no_drain_still_stops_through_the_timer(worker, signals):
    shutdown.on_worker_ready(worker, drain=0)
    shutdown.stopping[0] = 1
    signals.send(signals.SIGTERM)
    assert signals.timer > 0
