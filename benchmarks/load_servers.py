"""The servers bench_load.py runs and measures: each started on a free port of 127.0.0.1, its
output to a log file, stopped with its whole process tree; its CPU time from /proc, requests from
wrk or from a few kept-alive connections, and instructions counted by valgrind's cachegrind."""

from __future__ import annotations

import http.client
import os
import re
import signal
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.helpers import free_port

CONNECTIONS = 32  # wrk's


def get_status(port: int, path: str = "/healthz", timeout: float = 2) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


BIND = {
    "gunicorn": ["--bind", "127.0.0.1:{port}"],
    "granian": ["--host", "127.0.0.1", "--port", "{port}"],
    "waitress": ["--listen=127.0.0.1:{port}"],
}


class Server:
    def __init__(
        self, python: Path, cwd: Path, args: list[str], env: dict[str, str], log: Path, wrapper: list[str] = ()
    ):
        self.port = free_port()
        self.log = log
        program, *rest = args
        bind = [part.format(port=self.port) for part in BIND[program]]
        # The app comes last: waitress wants it so.
        command = [*wrapper, str(python), "-m", program, *bind, *rest]
        self.started = time.perf_counter()
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                command, cwd=cwd, env={**os.environ, **env, "PYTHONPATH": str(cwd)}, stdout=output, stderr=output
            )

    def wait_for_200(self, deadline: float = 60.0, probe_timeout: float = 2) -> float:
        """Seconds from launch to the first 200."""
        end = time.perf_counter() + deadline
        while time.perf_counter() < end:
            if get_status(self.port, timeout=probe_timeout) == 200:
                return time.perf_counter() - self.started
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.002)
        raise TimeoutError(f"no 200 within {deadline}s")

    def tree(self) -> list[int]:
        """The server's process and all its descendants."""
        pids, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            try:
                todo += map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
            except FileNotFoundError:
                pass
        return pids

    def cpu_seconds(self) -> float:
        """CPU time of the whole tree so far, including processes that already exited."""
        total = sum(read_stat(self.process.pid)[13:15])  # reaped children's utime and stime
        for pid in self.tree():
            try:
                total += sum(read_stat(pid)[11:13])
            except FileNotFoundError:
                pass  # exited since
        return total / os.sysconf("SC_CLK_TCK")

    def memory_mib(self) -> float:
        """Resident memory of the whole tree."""
        pages = 0
        for pid in self.tree():
            try:
                pages += read_stat(pid)[21]
            except FileNotFoundError:
                pass
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20

    def stop(self, timeout: float = 30) -> None:
        # SIGINT is a quick shutdown: no drain, this is not what is measured.
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def read_stat(pid: int) -> list[int]:
    """The numeric fields of /proc/PID/stat after the command name (utime is [11])."""
    fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    return [int(field) if field.lstrip(b"-").isdigit() else 0 for field in fields]


def wrk(server: Server, seconds: int) -> tuple[float, float, float]:
    """(requests per second, p99 in ms, server CPU microseconds per request) of one wrk run.

    CPU per request barely moves with other load on the machine, unlike requests per second.
    """
    cpu_before = server.cpu_seconds()
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    out = subprocess.run(
        [*command, f"http://127.0.0.1:{server.port}/healthz"], capture_output=True, text=True, check=True
    ).stdout
    if re.search(r"Non-2xx or 3xx responses|Socket errors", out):
        raise RuntimeError(f"wrk saw errors:\n{out}")
    cpu = server.cpu_seconds() - cpu_before
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out).groups()
    p99_ms = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rps, p99_ms, cpu / requests * 1e6


def load_rounds(
    servers: dict[str, Server], rounds: int, seconds: int, groups: list[tuple[str, ...]]
) -> dict[str, list[tuple]]:
    """(req/s, p99 ms, CPU us/req) of each server in each of `rounds` rounds. The servers of a group
    (a pair: service and bare) run back to back, in reverse order every other round, so that a noisy
    neighbour or a warming machine hits them alike."""
    for server in servers.values():
        server.wait_for_200()
        wrk(server, 1)  # warm up: every worker imported and served
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in servers}
    for round_ in range(rounds):
        for group in groups:
            for name in group if round_ % 2 else reversed(group):
                results[name].append(wrk(servers[name], seconds))
        print(f"  round {round_ + 1}: " + ", ".join(f"{n} {r[-1][0]:.0f}/s" for n, r in results.items()), flush=True)
    return results


def median_of(runs: list[tuple]) -> list[float]:
    return [statistics.median(column) for column in zip(*runs, strict=True)]


def instructions(python: Path, spec, log: Path, requests: int, warm: int = 200) -> float:
    """Instructions the server's processes run per GET /healthz, counted by valgrind's cachegrind:
    one run serves `warm` requests, another `warm + requests`; the difference holds no start-up,
    no first-request costs and no other process's work."""
    totals = []
    for count in (warm, warm + requests):
        out = log.parent / f"{log.stem}-{count}"
        out.mkdir(exist_ok=True)
        for old in out.glob("cg.*"):
            old.unlink()
        cwd, args, env = spec
        wrapper = ["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out}/cg.%p"]
        # Fixed hashing, for the same work each run; the slow start must not count as a hung worker.
        env = {**env, "PYTHONHASHSEED": "0", "GUNICORN_TIMEOUT": "600"}
        server = Server(python, cwd, args, env, log, wrapper)
        try:
            server.wait_for_200(deadline=600, probe_timeout=600)  # one probe: no backlog of retries
            fetch(server.port, count - 1)
        finally:
            server.stop(timeout=300)
        totals.append(sum(int(path.read_text().rsplit("summary:", 1)[1]) for path in out.glob("cg.*")))
    return (totals[1] - totals[0]) / requests


def fetch(port: int, count: int, connections: int = 4) -> None:
    """`count` GETs of /healthz over `connections` kept-alive connections, each answered 200."""

    def serve(share: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        try:
            for _ in range(share):
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"GET /healthz answered {response.status}")
        finally:
            connection.close()

    shares = [count // connections + (i < count % connections) for i in range(connections)]
    with ThreadPoolExecutor(max_workers=connections) as pool:
        list(pool.map(serve, shares))
