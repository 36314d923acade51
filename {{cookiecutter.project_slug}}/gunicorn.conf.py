"""gunicorn settings, from the environment so one image serves every environment."""

import os
{%- if cookiecutter.metrics == "prometheus" %}
import tempfile
from contextlib import suppress
from pathlib import Path
{%- endif %}

# In a container the network namespace is the boundary: listen on all its interfaces.
port = os.environ.get("PORT", "8000")
bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{port}")  # nosec B104
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gunicorn's threaded worker, with requests read by its event loop (see server.py):
# slow clients hold no thread.
worker_class = "{{ cookiecutter.package_name }}.server.Worker"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
keepalive = 5
# Recycle workers now and then, staggered, to bound slow memory growth. Rarely: a new
# worker imports the app again: 0.2 s of CPU, 2 us a request over 100,000 requests.
{%- if cookiecutter.metrics == "prometheus" %}
# A gone worker's metrics files are folded into an archive (metrics.retire_worker).
{%- endif %}
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = max_requests // 10

# Shutdown on SIGTERM (see shutdown.py): /readyz turns 503 at once; workers serve on for
# `drain` seconds while load balancers stop sending traffic, then finish what they have.
# gunicorn kills what is left at graceful_timeout. Keep
#   drain + the longest request  <  graceful_timeout  <  the platform's grace period
# (Kubernetes terminationGracePeriodSeconds: 30 by default; docker stop: 10, so -t 30).
drain = float(os.environ.get("SHUTDOWN_DRAIN_SECONDS", "5"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))

# JSON logs on stdout: the app's, gunicorn's errors and one access line per request.
logger_class = "{{ cookiecutter.package_name }}.logs.GunicornLogger"
accesslog = "-" if os.environ.get("ACCESS_LOG", "1") == "1" else None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Headers from a proxy are trusted only from these addresses (see ProxyFix in the app).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No control socket for gunicornc: nothing uses it, and it wants a writable home folder.
control_socket_disable = True
{%- if cookiecutter.metrics == "prometheus" %}

# Metrics from every worker (prometheus_client's multiprocess mode): each one keeps its
# counts in files here and /metrics adds them up. A fresh directory for each server
# unless one is set; a reload (SIGHUP) runs this file again and keeps it. Set before the
# app is imported.
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="prometheus-")


def on_starting(server):
    # Once a server, not on a reload: a directory that was set may be missing, or hold
    # the counts of an earlier server that was killed, which are not this one's.
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    remove_counts(directory)
{%- endif %}


# The hooks import the app's modules when called: after this file set the environment.
def when_ready(server):
    from {{ cookiecutter.package_name }} import shutdown

    shutdown.on_master_ready(server)


def post_worker_init(worker):
    from {{ cookiecutter.package_name }} import shutdown

    shutdown.on_worker_ready(worker, drain)
{%- if cookiecutter.metrics == "prometheus" %}


def worker_exit(server, worker):
    from {{ cookiecutter.package_name }} import metrics

    metrics.on_worker_exit(worker)


def child_exit(server, worker):
    from {{ cookiecutter.package_name }} import metrics

    metrics.retire_worker(worker.pid, os.environ["PROMETHEUS_MULTIPROC_DIR"])


def on_exit(server):
    # The counts die with the server.
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    remove_counts(directory)
    with suppress(OSError):  # not empty: not only ours
        directory.rmdir()


def remove_counts(directory: Path) -> None:
    for path in [*directory.glob("*.db"), directory / "lock"]:
        path.unlink(missing_ok=True)
{%- endif %}
