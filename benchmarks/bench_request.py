"""What each piece of the generated service costs per request, in process, next to bare Flask.

    python -m benchmarks.bench_request [--keep DIR] [--template DIR]

Calls the WSGI apps directly (no server, no sockets) for GET /healthz, best of several repeats,
and again with the metrics switched off: the difference is what they cost. Also times one JSON
access-log line. bench_load.py measures the whole thing under gunicorn.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from benchmarks.bench_load import PACKAGE, bake, install

MEASURE = f"""\
import importlib, os, sys, tempfile, timeit
from time import process_time as cpu  # CPU time: other load on the machine barely moves it
from datetime import timedelta
from types import SimpleNamespace

os.environ.update(APP_ENV="production", SECRET_KEY="bench", LOG_LEVEL="INFO")
# As under gunicorn.conf.py, when the service has metrics.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp()

from flask import Flask
from werkzeug.test import EnvironBuilder

from {PACKAGE} import create_app
from {PACKAGE}.logs import GunicornLogger

environ = EnvironBuilder(path="/healthz").get_environ()


def start_response(status, headers, exc_info=None):
    pass


def per_request(app, number=2000, repeat=7):
    def call():
        body = app(dict(environ), start_response)
        for _ in body:
            pass
        body.close()

    call()
    return min(timeit.repeat(call, number=number, repeat=repeat, timer=cpu)) / number * 1e6


bare = Flask("bare")
bare.get("/healthz")(lambda: {{"status": "ok"}})


def without(module):
    # The service with one of its modules' init_app switched off.
    init_app = module.init_app
    module.init_app = lambda app: None
    try:
        return create_app()
    finally:
        module.init_app = init_app


rows = {{
    "bare Flask": per_request(bare),
    "service": per_request(create_app()),
}}
# The request id and the API's headers share one layer with the metrics (per_request.py):
# only the metrics switch off on their own.
for name in ("metrics",):
    try:
        module = importlib.import_module(f"{PACKAGE}.{{name}}")
    except ImportError:  # an answer left it out
        continue
    rows[f"service without {{name}}"] = per_request(without(module))

print(f"{{'GET /healthz, in process':<36}}{{'us/request':>12}}{{'piece costs':>13}}")
for name, micros in rows.items():
    cost = rows["service"] - micros if name.startswith("service without") else None
    print(f"{{name:<36}}{{micros:>12.1f}}" + (f"{{cost:>13.1f}}" if cost is not None else ""))

from gunicorn.config import Config

config = Config()
config.set("accesslog", "-")
logger = GunicornLogger(config)
response = SimpleNamespace(status="200 OK", sent=16, headers=[("X-Request-ID", "f" * 32)])
sys.stdout = open(os.devnull, "w")
access = min(timeit.repeat(
    lambda: logger.access(response, None, environ, timedelta(microseconds=250)),
    number=2000, repeat=7, timer=cpu,
)) / 2000 * 1e6
sys.stdout = sys.__stdout__
print(f"{{'one JSON access-log line':<36}}{{access:>12.1f}}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="bake and install here, and reuse the venv next time")
    parser.add_argument("--template", type=Path, help="bake this template instead of this checkout")
    options = parser.parse_args()
    workdir = options.keep or Path(tempfile.mkdtemp(prefix="bench-request-"))
    project = bake(workdir, options.template)
    python = install(project, workdir / "venv")
    subprocess.run([str(python), "-c", MEASURE], cwd=project.path, check=True)


if __name__ == "__main__":
    main()
