"""The default service's memory under clients that cut their requests short.

    python -m benchmarks.bench_memory [--rounds 30] [--clients 20] [--keep DIR]

Bakes the default answers and installs the project from its own pins (bench_load.py's bake and
install), serves it with its own gunicorn.conf.py, and runs rounds in which `--clients` connections
each send a request head and all but the last byte of a 1 MiB body, then close. Prints the resident
memory of the server's master and of each worker before, every tenth round, and two seconds
after the last. Each round stays within what a worker may hold of requests still arriving (16 MiB),
so none is refused: what the rounds leave behind is what the figures show.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import time
from pathlib import Path

from benchmarks.bench_load import bake, hostile_module, install, variants
from benchmarks.load_servers import Server, read_stat

PAGE = os.sysconf("SC_PAGE_SIZE")
BODY = 1024 * 1024  # MAX_CONTENT_LENGTH's default: the largest body the service takes


def cut_short(port: int, clients: int, head: bytes) -> None:
    """`clients` connections, each a head and all but the last byte of its body, then closed."""
    connections = []
    for _ in range(clients):
        connection = socket.create_connection(("127.0.0.1", port), timeout=10)
        connection.sendall(head + b"a" * (BODY - 1))
        connections.append(connection)
    time.sleep(0.2)  # the workers read it all
    for connection in connections:
        connection.close()


def resident(server: Server) -> str:
    """The master's resident memory and each worker's, in MiB."""
    pages = [read_stat(pid)[21] for pid in server.tree()]
    return "  ".join(f"{page * PAGE / 2**20:6.0f}" for page in pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="bake and install here, and reuse the venv next time")
    options = parser.parse_args()

    workdir = options.keep or Path(tempfile.mkdtemp(prefix="bench-memory-"))
    workdir.mkdir(parents=True, exist_ok=True)
    project = bake(workdir)
    python = install(project, workdir / "venv")
    hostile = hostile_module(project.path)
    head = hostile.request(hostile.JSON + f"Content-Length: {BODY}\r\n")
    server = Server(python, *variants(project.path)["service"], workdir / "memory.log")
    try:
        server.wait_for_200()
        print(f"resident memory, MiB: master, workers ({options.clients} clients a round)")
        print(f"{'before':<12}{resident(server)}")
        for round_ in range(1, options.rounds + 1):
            cut_short(server.port, options.clients, head)
            if round_ % 10 == 0:
                print(f"{f'round {round_}':<12}{resident(server)}", flush=True)
        time.sleep(2)
        print(f"{'2 s after':<12}{resident(server)}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
