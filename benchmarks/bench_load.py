"""Throughput, p99 latency and start-up time of the default generated service against bare Flask.

    python benchmarks/bench_load.py [--rounds 5] [--seconds 5] [--launches 7] [--keep DIR]

Bakes the default answers, installs the project from its own pins, and serves it with its own
gunicorn.conf.py (WEB_CONCURRENCY=4, sync workers) next to a five-line Flask app served by the same
gunicorn with `-w 4 -k sync`. wrk loads GET /healthz on each in turn, round after round, so a noisy
neighbour hits every variant alike; the figures are medians over the rounds. The generated service
logs one JSON access line per request by default while gunicorn logs none by default, so the
variants include both with and without access logs. Output goes to /dev/null.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers import RENDERED_DEFAULTS, Baked, project_venv  # noqa: E402

BARE_APP = """\
from flask import Flask

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
"""
WORKERS = "4"
CONNECTIONS = 32
PACKAGE = RENDERED_DEFAULTS["package_name"]
RATIOS = {
    "service / bare (each with its defaults)": ("service", "bare"),
    "service / bare (both with access logs)": ("service", "bare+accesslog"),
    "service / bare (neither with access logs)": ("service-no-accesslog", "bare"),
}


def variants(project: Path) -> dict[str, tuple[Path, list[str], dict[str, str]]]:
    """name -> (folder to run in, gunicorn arguments after `-m gunicorn`, extra environment).

    The bare app runs in a folder of its own: gunicorn reads ./gunicorn.conf.py where it finds one.
    """
    bare = ["-w", WORKERS, "-k", "sync", "bare:app"]
    service = ["-c", "gunicorn.conf.py", f"{PACKAGE}.wsgi:app"]
    service_env = {"APP_ENV": "production", "SECRET_KEY": "bench", "WEB_CONCURRENCY": WORKERS}
    bare_folder = project.parent / "bare"
    return {
        "bare": (bare_folder, bare, {}),
        "bare+accesslog": (bare_folder, ["--access-logfile", "-", *bare], {}),
        "service": (project, service, service_env),
        "service-no-accesslog": (project, service, {**service_env, "ACCESS_LOG": "0"}),
    }


def get_status(port: int, path: str = "/healthz") -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, python: Path, cwd: Path, args: list[str], env: dict[str, str]):
        self.port = free_port()
        command = [str(python), "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", *args]
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**os.environ, **env, "PYTHONPATH": str(cwd)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_for_200(self, deadline: float = 30.0) -> float:
        """Seconds from launch to the first 200."""
        end = time.perf_counter() + deadline
        while time.perf_counter() < end:
            if get_status(self.port) == 200:
                return time.perf_counter() - self.started
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            time.sleep(0.002)
        raise TimeoutError(f"no 200 within {deadline}s")

    def cpu_seconds(self) -> float:
        """CPU time of the master and its workers so far, including workers that already exited."""
        master = read_stat(self.process.pid)
        total = sum(master[11:15])  # utime, stime, and the same of reaped children
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        for child in children:
            try:
                total += sum(read_stat(int(child))[11:13])
            except FileNotFoundError:
                pass  # exited since
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        # SIGINT is gunicorn's quick shutdown: no drain, this is not what is measured.
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)


def read_stat(pid: int) -> list[int]:
    """The numeric fields of /proc/PID/stat after the command name (utime is [11])."""
    fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    return [int(field) if field.lstrip(b"-").isdigit() else 0 for field in fields]


def wrk(server: Server, seconds: int) -> tuple[float, float, float]:
    """(requests per second, p99 in ms, server CPU microseconds per request) of one wrk run.

    CPU per request barely moves with other load on the machine, unlike requests per second.
    """
    port = server.port
    cpu_before = server.cpu_seconds()
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    out = subprocess.run(
        [*command, f"http://127.0.0.1:{port}/healthz"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if re.search(r"Non-2xx or 3xx responses|Socket errors", out):
        raise RuntimeError(f"wrk saw errors:\n{out}")
    cpu = server.cpu_seconds() - cpu_before
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out).groups()
    p99_ms = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rps, p99_ms, cpu / requests * 1e6


def bake(workdir: Path, template: Path | None = None) -> Baked:
    """The default answers baked (again) into `workdir`, with the bare app beside them.

    In a process of its own: the template imports its own answers module, which may differ.
    """
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "--overwrite-if-exists"]
    subprocess.run([*command, str(template or ROOT), "-o", "."], cwd=workdir, check=True)
    (workdir / "bare").mkdir(exist_ok=True)
    (workdir / "bare" / "bare.py").write_text(BARE_APP, "utf-8")
    return Baked(workdir / RENDERED_DEFAULTS["project_slug"], dict(RENDERED_DEFAULTS))


def install(project: Baked, venv: Path) -> Path:
    """The project's runtime pins in `venv`, made once and then reused."""
    python = venv / "bin" / "python"
    return python if python.exists() else project_venv(project, venv, groups=())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--launches", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="bake and install here, and reuse the venv next time")
    parser.add_argument("--template", type=Path, help="bake this template instead of this checkout")
    options = parser.parse_args()

    workdir = options.keep or Path(tempfile.mkdtemp(prefix="bench-load-"))
    project = bake(workdir, options.template)
    python = install(project, workdir / "venv")
    servers = {name: Server(python, *spec) for name, spec in variants(project.path).items()}

    try:
        for server in servers.values():
            server.wait_for_200()
            wrk(server, 1)  # warm up: every worker imported and served
        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in servers}
        for round_ in range(options.rounds):
            for name, server in servers.items():
                results[name].append(wrk(server, options.seconds))
            print(f"round {round_ + 1}: " + ", ".join(f"{n} {r[-1][0]:.0f}/s" for n, r in results.items()))
    finally:
        for server in servers.values():
            server.stop()

    print(f"\nGET /healthz, wrk -t2 -c{CONNECTIONS} {options.seconds:g}s x {options.rounds} rounds, medians")
    print(f"{'variant':<22}{'req/s':>8}{'p99 ms':>9}{'CPU us/req':>12}")
    medians = {name: [statistics.median(column) for column in zip(*runs)] for name, runs in results.items()}
    for name, (rps, p99, cpu) in medians.items():
        print(f"{name:<22}{rps:>8.0f}{p99:>9.2f}{cpu:>12.0f}")
    print(f"\n{'ratio':<44}{'req/s':>8}{'p99':>8}{'bare CPU/req':>14}")
    for label, (name, base) in RATIOS.items():
        (rps, p99, cpu), (base_rps, base_p99, base_cpu) = medians[name], medians[base]
        print(f"{label:<44}{rps / base_rps:>8.2f}{p99 / base_p99:>8.2f}{base_cpu / cpu:>14.2f}")

    print(f"\ntime from launch to first 200, median of {options.launches} launches")
    for name in ("bare", "service"):
        times = []
        for _ in range(options.launches):
            server = Server(python, *variants(project.path)[name])
            try:
                times.append(server.wait_for_200())
            finally:
                server.stop()
        print(f"{name:<20}{statistics.median(times):>8.3f} s   (min {min(times):.3f}, max {max(times):.3f})")


if __name__ == "__main__":
    main()
