"""Graceful shutdown under gunicorn, wired up by the hooks in gunicorn.conf.py.

On SIGTERM to the master (what Kubernetes, Docker and ECS send), every worker at once
answers /readyz with 503 yet serves on for `drain` seconds, while load balancers take it
out of rotation; then it stops accepting, finishes the requests it has, and exits.
gunicorn kills whatever is left after graceful_timeout. A worker that gunicorn retires
on its own (a SIGHUP reload, fewer workers) stops accepting at once: the others share
its socket, so no request is lost and none waits.
"""

from __future__ import annotations

import mmap
import signal

# One byte of memory that the master shares with every worker it forks: 1 once the whole
# server is stopping. Here rather than in gunicorn.conf.py, which a reload runs anew.
stopping = mmap.mmap(-1, 1)


def on_master_ready(server) -> None:
    """The when_ready hook: on SIGTERM, mark the server stopping, then stop."""
    handle_term = signal.getsignal(signal.SIGTERM)

    def mark_stopping(signum, frame) -> None:
        stopping[0] = 1
        handle_term(signum, frame)

    signal.signal(signal.SIGTERM, mark_stopping)


def on_worker_ready(worker, drain: float) -> None:
    """The post_worker_init hook: on SIGTERM, drain first if the whole server stops."""
    handle_term = signal.getsignal(signal.SIGTERM)
    readiness = worker.wsgi.extensions["readiness"]
    draining = False

    def drain_then_stop(signum, frame) -> None:
        nonlocal draining
        if not stopping[0]:  # only this worker is retired
            handle_term(signum, frame)
        elif not draining:
            draining = True
            readiness.shutting_down = True
            # Then gunicorn's own SIGTERM handling: stop accepting, finish, exit.
            signal.signal(signal.SIGALRM, lambda *_: handle_term(signum, frame))
            signal.setitimer(signal.ITIMER_REAL, max(drain, 0.001))

    signal.signal(signal.SIGTERM, drain_then_stop)
