"""The real `aws` CLI without its start-up: a server that has imported awscli once forks a child
per command, which runs awscli's own `main()` with the caller's arguments, environment, folder,
stdin, stdout and stderr (passed over a Unix socket), and hands back its exit code.

Each `aws` start-up spends about 0.6 s of CPU importing awscli and botocore, and
scripts/bootstrap_aws.sh runs `aws` about 40 times a run: `aws_on_path` puts an `aws` on PATH that
asks the server instead, so the script runs as written, every command parsed, sent, queried
and printed by the CLI itself.

    python warm_aws.py serve SOCKET    the server (prints "ready" once it listens)
    aws ARGS...                        the client that `aws_on_path` writes"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# The client, as small as a Python program gets: no site (`-S`), no environment options (`-I`).
CLIENT = """\
#!{python} -IS
import json, os, socket, sys
connection = socket.socket(socket.AF_UNIX)
connection.connect({socket!r})
request = json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}})
socket.send_fds(connection, [request.encode()], [0, 1, 2])
connection.shutdown(socket.SHUT_WR)
reply = b"".join(iter(lambda: connection.recv(65536), b""))
sys.exit(int(reply) if reply else 255)
"""


def serve(path: str) -> None:
    import awscli.clidriver

    # What awscli does on import (adds its own data folder to AWS_DATA_PATH) is kept for every command.
    data_path = os.environ["AWS_DATA_PATH"]
    awscli.clidriver.create_clidriver()  # imports the plugins' modules too
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(64)
    print("ready", flush=True)
    while True:
        connection, _ = listener.accept()
        message, fds, _, _ = socket.recv_fds(connection, 1 << 16, 3)
        while chunk := connection.recv(1 << 16):  # the rest, up to the client's shutdown
            message += chunk
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fork() == 0:
            listener.close()
            os._exit(run(connection, json.loads(message), fds, data_path))
        connection.close()
        for fd in fds:
            os.close(fd)
        # Reap the children that finished (their CPU time then counts as the server's).
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def run(connection: socket.socket, request: dict, fds: list[int], data_path: str) -> int:
    """In the forked child: become the command the client ran, run awscli's main(), reply its code."""
    code = 255
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"], AWS_DATA_PATH=data_path)
        sys.argv = ["aws", *request["argv"]]
        import awscli.clidriver

        try:
            code = awscli.clidriver.main()
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1 if exit.code else 0
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        connection.sendall(str(code).encode())
        connection.close()
    return code


@contextmanager
def aws_on_path(folder: Path) -> Iterator[dict[str, str]]:
    """A warm aws server for the duration; yields the environment (PATH) that finds its `aws` first."""
    folder.mkdir(parents=True, exist_ok=True)
    path = str(folder / "aws.sock")
    server = subprocess.Popen(
        [sys.executable, __file__, "serve", path],
        stdout=subprocess.PIPE,
        stderr=(folder / "warm_aws.log").open("w"),
        text=True,
    )
    try:
        assert server.stdout.readline() == "ready\n", (folder / "warm_aws.log").read_text()
        client = folder / "bin" / "aws"
        client.parent.mkdir()
        client.write_text(CLIENT.format(python=sys.executable, socket=path))
        client.chmod(0o755)
        yield {"PATH": f"{client.parent}{os.pathsep}{os.environ['PATH']}"}
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    assert sys.argv[1] == "serve", __doc__
    serve(sys.argv[2])
