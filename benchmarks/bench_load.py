"""The generated service under load and under attack, next to a bare Flask app and other servers.

    python -m benchmarks.bench_load [--rounds 7] [--seconds 5] [--launches 7] [--instructions 2000]
                                    [--slow-seconds 40] [--setups] [--keep DIR]

Bakes the default answers and installs the project from its own pins. Prints:

1. The target: the service against a five-line Flask app on the same server settings, that is
   the project's own gunicorn.conf.py (its worker class, WEB_CONCURRENCY=2, GUNICORN_THREADS=4,
   JSON logger and access log; the bare app's copy drops only the two start-up hooks that want
   the service's readiness checks). GET /healthz under wrk, in paired rounds (bare, service,
   service, bare, ...): requests per second, p99, and server CPU per request (user + system time
   of the master and its workers from /proc, before and after each run, over the requests wrk
   counted). Medians of each, and medians of the per-round ratios. CPU per request is the robust
   figure on a shared machine: another process slows a server's wall clock, hardly its CPU time.
   The same again with the access log off on both sides, to show what the app alone costs.
   Then, with valgrind installed, instructions per request of the server processes (cachegrind:
   a run serving --instructions more requests than another, so that start-up cancels out), which
   no neighbour moves at all; and the time from launch to first 200. PASS or FAIL against the
   targets: throughput and CPU per request within 0.95x bare, p99 no worse, launch within 1.2x.
2. The malformed corpus of the generated project (tests/integration/hostile.py), each request 20
   times from 16 threads: worker exits (from the master's log) and answers >= 500.
3. 16 slow clients dribbling requests (heads, bodies, chunked bodies) for --slow-seconds while a
   fresh client probes /healthz every 0.1 s: the share of probes answered 200 within 1 s.
4. With --setups, the same bare app, with a route that reads a body, on each candidate server set-up
   (gunicorn sync, gunicorn's stock gthread, the project's worker, granian, waitress; the last two
   installed into the benchmark's venv only), no access log on any: req/s, p99, CPU per request,
   memory of the whole process tree, and the slow-client share.

Output of the servers goes to files in the work folder.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.load_servers import CONNECTIONS, Server, instructions, load_rounds, median_of
from tests.helpers import RENDERED_DEFAULTS, ROOT, UV_CACHE, Baked

BARE_APP = """\
from flask import Flask

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
"""
# For --setups: the bare app, and a route that reads a body, as the service's does, for the
# slow clients to send theirs to.
BODIES_APP = """\
from flask import request

from bare import app


@app.post({path!r})
def read_body():
    return {{"bytes": len(request.get_data())}}
"""
# The bare app's gunicorn settings: the service's own file, less the hooks that want its app.
BARE_CONFIG = """\
exec(compile(open({config!r}).read(), {config!r}, "exec"))
del when_ready, post_worker_init  # they hook the service's readiness checks
"""
PACKAGE = RENDERED_DEFAULTS["package_name"]
WORKERS, THREADS = "2", "4"  # the project's defaults (gunicorn.conf.py)
CANDIDATES = ["granian==2.8.7", "waitress==3.0.2"]  # --setups only, never the project's
# The targets, service against bare on the same server settings.
THROUGHPUT = 0.95  # req/s, and bare's CPU (or instructions) a request over the service's
P99 = 1.0  # at most bare's
LAUNCH = 1.2  # at most bare's time from launch to first 200
# (service, bare) pairs run in alternating rounds; the first is the target.
PAIRS = {
    "defaults (the target)": ("service", "bare"),
    "no access log on either": ("service, no access log", "bare, no access log"),
}


def variants(project: Path) -> dict[str, tuple[Path, list[str], dict[str, str]]]:
    """name -> (folder to run in, command after `python -m`, extra environment): the service and
    the bare app, each on the project's gunicorn.conf.py, with and without the access log. The
    bare app runs from a folder of its own."""
    env = {"APP_ENV": "production", "SECRET_KEY": "bench", "WEB_CONCURRENCY": WORKERS, "GUNICORN_THREADS": THREADS}
    quiet = {**env, "ACCESS_LOG": "0"}
    bare_folder = project.parent / "bare"
    bare = ["gunicorn", "-c", str(bare_folder / "gunicorn.conf.py"), "bare:app"]
    service = ["gunicorn", "-c", str(project / "gunicorn.conf.py"), f"{PACKAGE}.wsgi:app"]
    return {
        "bare": (bare_folder, bare, env),
        "service": (project, service, env),
        "bare, no access log": (bare_folder, bare, quiet),
        "service, no access log": (project, service, quiet),
    }


def setups(project: Path) -> dict[str, tuple[Path, list[str], dict[str, str]]]:
    """The bare app, with a route that reads a body, on each candidate server set-up, eight
    requests at a time each."""
    bare = project.parent / "bare"
    folder, command, env = variants(project)["bare, no access log"]
    return {
        "gunicorn sync, 8 workers": (
            bare,
            ["gunicorn", "-k", "sync", "-w", "8", "--no-control-socket", "bodies:app"],
            {},
        ),
        "gunicorn gthread 2x4": (
            bare,
            ["gunicorn", "-k", "gthread", "-w", WORKERS, "--threads", THREADS, "--no-control-socket", "bodies:app"],
            {},
        ),
        "project's worker 2x4": (folder, [*command[:-1], "bodies:app"], env),
        "granian 2x4": (
            bare,
            [
                "granian",
                "--interface",
                "wsgi",
                "--workers",
                WORKERS,
                "--blocking-threads",
                THREADS,
                "--no-ws",
                "bodies:app",
            ],
            {},
        ),
        "waitress 1x8": (bare, ["waitress", "--threads", "8", "bodies:app"], {}),
    }


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def hostile_module(project: Path):
    spec = importlib.util.spec_from_file_location("hostile", project / "tests" / "integration" / "hostile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def slow_clients(hostile, server: Server, seconds: float) -> tuple[int, int]:
    """(probes answered 200 within 1 s, probes) while 16 slow clients dribble requests."""
    probes = []
    with hostile.SlowClients(server.port, count=16):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            probes.append(hostile.probe(server.port, within=1.0))
            time.sleep(0.1)
    return probes.count(True), len(probes)


def corpus(hostile, server: Server, repeats: int = 20) -> tuple[int, int, int]:
    """(requests sent, answers >= 500, worker exits) for the corpus sent `repeats` times by 16 threads."""
    cases = [raw for raw, _ in hostile.CORPUS.values()] * repeats
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda raw: hostile.exchange(server.port, raw), cases))
    time.sleep(1)  # the master logs an exit a moment after it
    server_errors = sum(1 for answer in answers if answer is None or answer[0] >= 500)
    exits = server.log.read_text().count("exited with code")
    return len(cases), server_errors, exits


def bake(workdir: Path, template: Path | None = None) -> Baked:
    """The default answers baked (again) into `workdir`, with the bare app beside them.

    In a process of its own: the template imports its own answers module, which may differ.
    """
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "--overwrite-if-exists"]
    subprocess.run([*command, str(template or ROOT), "-o", "."], cwd=workdir, check=True)
    (workdir / "bare").mkdir(exist_ok=True)
    (workdir / "bare" / "bare.py").write_text(BARE_APP, "utf-8")
    project = workdir / RENDERED_DEFAULTS["project_slug"]
    bodies = BODIES_APP.format(path=hostile_module(project).API)
    (workdir / "bare" / "bodies.py").write_text(bodies, "utf-8")
    config = BARE_CONFIG.format(config=str(project / "gunicorn.conf.py"))
    (workdir / "bare" / "gunicorn.conf.py").write_text(config, "utf-8")
    return Baked(project, dict(RENDERED_DEFAULTS))


def install(project: Baked, venv: Path) -> Path:
    """The project's runtime pins in `venv`, made once and then reused."""
    python = venv / "bin" / "python"
    return python if python.exists() else project.install(venv, groups=())


def install_candidates(python: Path) -> None:
    env = {**os.environ, "UV_CACHE_DIR": str(UV_CACHE), "UV_NATIVE_TLS": "1"}
    command = [sys.executable, "-m", "uv", "pip", "install", "--quiet", "--python", str(python), *CANDIDATES]
    subprocess.run(command, env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--launches", type=int, default=7)
    parser.add_argument(
        "--instructions", type=int, default=2000, help="requests counted under valgrind (0: not counted)"
    )
    parser.add_argument("--slow-seconds", type=float, default=40)
    parser.add_argument("--setups", action="store_true", help="also compare candidate server set-ups")
    parser.add_argument("--keep", type=Path, help="bake and install here, and reuse the venv next time")
    parser.add_argument("--template", type=Path, help="bake this template instead of this checkout")
    options = parser.parse_args()

    workdir = options.keep or Path(tempfile.mkdtemp(prefix="bench-load-"))
    workdir.mkdir(parents=True, exist_ok=True)
    project = bake(workdir, options.template)
    python = install(project, workdir / "venv")
    hostile = hostile_module(project.path)
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)

    def start(name: str, spec) -> Server:
        return Server(python, *spec, logs / f"{re.sub(r'[^a-z0-9]+', '-', name.lower())}.log")

    print(
        f"1. GET /healthz, wrk -t2 -c{CONNECTIONS} {options.seconds}s, {options.rounds} paired rounds;"
        " every variant on the project's gunicorn.conf.py"
    )
    servers = {name: start(name, spec) for name, spec in variants(project.path).items()}
    try:
        results = load_rounds(servers, options.rounds, options.seconds, list(PAIRS.values()))
    finally:
        for server in servers.values():
            server.stop()
    print(f"{'variant, medians':<26}{'req/s':>8}{'p99 ms':>9}{'CPU us/req':>12}")
    for name, runs in results.items():
        rps, p99, cpu = median_of(runs)
        print(f"{name:<26}{rps:>8.0f}{p99:>9.2f}{cpu:>12.1f}")
    # Per round: service / bare for req/s and p99, bare / service for CPU a request (so that
    # every figure reads "as fast as bare" at 1.00).
    ratios = {
        label: [(s[0] / b[0], s[1] / b[1], b[2] / s[2]) for s, b in zip(results[name], results[base], strict=True)]
        for label, (name, base) in PAIRS.items()
    }
    print(f"\n{'service / bare, per round':<26}{'req/s':>18}{'p99':>18}{'CPU (bare/service)':>22}")
    for label, rounds in ratios.items():
        cells = [f"{statistics.median(c):.2f} ({min(c):.2f}-{max(c):.2f})" for c in zip(*rounds, strict=True)]
        print(f"{label:<26}{cells[0]:>18}{cells[1]:>18}{cells[2]:>22}")
    target = [statistics.median(column) for column in zip(*next(iter(ratios.values())), strict=True)]

    instructions_ratio = None
    if options.instructions and shutil.which("valgrind"):
        print(
            f"\ninstructions per request of the server processes (valgrind cachegrind,"
            f" {options.instructions} requests; slow)"
        )
        counts = {}
        for name in reversed(PAIRS["defaults (the target)"]):
            counts[name] = instructions(
                python, variants(project.path)[name], logs / f"valgrind-{name}.log", options.instructions
            )
            print(f"{name:<26}{counts[name]:>12,.0f}", flush=True)
        instructions_ratio = counts["bare"] / counts["service"]
        print(f"{'bare / service':<26}{instructions_ratio:>12.3f}")
    elif options.instructions:
        print("\ninstructions per request: not measured, valgrind is not installed")

    print(f"\ntime from launch to first 200, median of {options.launches} launches, alternating")
    times: dict[str, list[float]] = {"bare": [], "service": []}
    for _ in range(options.launches):
        for name in times:
            server = start(name, variants(project.path)[name])
            try:
                times[name].append(server.wait_for_200())
            finally:
                server.stop()
    for name, launch in times.items():
        print(f"{name:<20}{statistics.median(launch):>8.3f} s   (min {min(launch):.3f}, max {max(launch):.3f})")
    launch_ratio = statistics.median(times["service"]) / statistics.median(times["bare"])
    print(f"{'service / bare':<20}{launch_ratio:>8.2f}")

    print("\nThe targets, service against bare on the same server settings (defaults; medians):")
    checks = [
        ("requests per second, service / bare", target[0], f">= {THROUGHPUT}", target[0] >= THROUGHPUT),
        ("CPU a request, bare / service", target[2], f">= {THROUGHPUT}", target[2] >= THROUGHPUT),
        ("p99, service / bare", target[1], f"<= {P99}", target[1] <= P99),
        ("launch to first 200, service / bare", launch_ratio, f"<= {LAUNCH}", launch_ratio <= LAUNCH),
    ]
    if instructions_ratio is not None:
        checks.insert(
            2,
            (
                "instructions a request, bare / service",
                instructions_ratio,
                f">= {THROUGHPUT}",
                instructions_ratio >= THROUGHPUT,
            ),
        )
    for label, value, limit, ok in checks:
        print(f"  {label:<40}{value:>6.2f}  {limit:<8}{verdict(ok)}")
    print("  (req/s and p99 move with whatever else the machine runs; CPU and instructions a request hardly do)")

    server = start("service-hostile", variants(project.path)["service"])
    try:
        server.wait_for_200()
        sent, server_errors, exits = corpus(hostile, server)
        print(
            f"\n2. malformed corpus, {sent} requests from 16 threads: {exits} worker exits, "
            f"{server_errors} answers >= 500 or none"
        )
        ok, total = slow_clients(hostile, server, options.slow_seconds)
        print(
            f"\n3. 16 slow clients for {options.slow_seconds:g} s: {ok} of {total} health probes "
            f"answered within 1 s ({100 * ok / total:.1f} %)"
        )
    finally:
        server.stop()

    if not options.setups:
        return
    install_candidates(python)
    print(
        f"\n4. server set-ups, the bare app, wrk {options.seconds}s x {options.rounds} rounds, medians;"
        f" 16 slow clients for {options.slow_seconds:g} s"
    )
    servers = {name: start(name, spec) for name, spec in setups(project.path).items()}
    try:
        medians = {
            name: median_of(runs)
            for name, runs in load_rounds(servers, options.rounds, options.seconds, [tuple(servers)]).items()
        }
        memory = {name: server.memory_mib() for name, server in servers.items()}
        slow = {name: slow_clients(hostile, server, options.slow_seconds) for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    print(f"{'set-up':<26}{'req/s':>8}{'p99 ms':>9}{'CPU us/req':>12}{'RSS MiB':>9}{'slow clients':>14}")
    for name, (rps, p99, cpu) in medians.items():
        ok, total = slow[name]
        print(f"{name:<26}{rps:>8.0f}{p99:>9.2f}{cpu:>12.0f}{memory[name]:>9.0f}{100 * ok / total:>13.1f}%")


if __name__ == "__main__":
    main()
