"""The template's tests' toolkit: the answers they try, and a baked project that reads, installs,
runs its tasks and serves itself (`Baked`), made by `bake` (or the session's `baked` fixture)."""

from __future__ import annotations

import hashlib
import http.client
import importlib.util
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import yaml

from flask_cicd import answers, checks

ROOT = answers.ROOT

COOKIECUTTER_JSON = answers.COOKIECUTTER_JSON
DEFAULTS = answers.DEFAULT_ANSWERS
CHOICES = answers.CHOICES
# The defaults as the hooks see them (derived names rendered), with the answers that constrain
# others at their most permissive: no deploy needs no registry.
RENDERED_DEFAULTS = {
    **DEFAULTS,
    "project_slug": "flask-service",
    "package_name": "flask_service",
}
PERMISSIVE = {**RENDERED_DEFAULTS, "deploy_target": "none"}
COOKIECUTTER = str(Path(sys.executable).parent / "cookiecutter")
# One uv cache for every virtual environment the tests and benchmarks make (.cache/ is git-ignored);
# conftest.py hands it to every uv the tests run, unless UV_CACHE_DIR names another.
UV_CACHE = ROOT / ".cache" / "uv"


# --- answers


def valid(row: dict[str, str]) -> bool:
    """Whether checks.check accepts `row`, the other answers taking their most permissive value."""
    try:
        checks.check({**PERMISSIVE, **row})
    except answers.AnswerError:
        return False
    return True


def pairwise(parameters: dict[str, list[str]], allowed=valid) -> list[dict[str, str]]:
    """Few combinations that together hold every allowed pair of values of every two parameters.

    Greedy and deterministic (stable test ids): each row starts from a pair not yet covered and
    fills the other parameters with the allowed values that cover the most new pairs.
    """
    names = list(parameters)

    def pairs(row: dict[str, str]) -> set:
        return {((a, row[a]), (b, row[b])) for a, b in itertools.combinations(names, 2) if a in row and b in row}

    uncovered = {
        ((a, va), (b, vb))
        for a, b in itertools.combinations(names, 2)
        for va in parameters[a]
        for vb in parameters[b]
        if allowed({a: va, b: vb})
    }
    rows = []
    while uncovered:
        (a, va), (b, vb) = min(uncovered)
        row = {a: va, b: vb}
        for name in names:
            if name not in row:
                candidates = [v for v in parameters[name] if allowed({**row, name: v})]
                row[name] = max(candidates, key=lambda value: len(pairs({**row, name: value}) & uncovered))
        row = {name: row[name] for name in names}
        uncovered -= pairs(row)
        rows.append(row)
    return rows


def combination_id(row: dict[str, str]) -> str:
    return "-".join(value.replace("+", "_") for value in row.values())


def raw(text: str) -> str:
    """An answer given on the command line (or as extra context) is rendered by cookiecutter as
    Jinja; one typed at a prompt is not. A raw block makes the first the second."""
    return "{% raw %}" + text + "{% endraw %}"


def as_typed(given: dict[str, str]) -> dict[str, str]:
    """Answers to pass as if typed at the prompts: free text in raw blocks, choices as they are."""
    return {name: value if name in CHOICES else raw(value) for name, value in given.items()}


# --- commands


def find_python(versions: list[str]) -> str:
    """An interpreter on this machine for one of `versions`, newest first; fails if there is none.

    The generated project's requires-python follows its answers, so the interpreter must match one.
    """
    for version in sorted(versions, key=lambda v: tuple(map(int, v.split("."))), reverse=True):
        candidates = [shutil.which(f"python{version}")]
        candidates += sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
        for candidate in filter(None, candidates):
            probe = subprocess.run([candidate, "--version"], capture_output=True, text=True)
            if probe.returncode == 0:
                return str(candidate)
    raise AssertionError(f"no Python {' or '.join(versions)} on this machine; install one to run this test")


def run(command: list, cwd: Path, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run a command; on failure, fail the test with its output."""
    result = subprocess.run(
        list(map(str, command)),
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} exited {result.returncode} in {cwd}\n"
        f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
    )
    return result


def uv_environment() -> dict[str, str]:
    """What every uv the tests run gets: the shared cache, the system's certificates."""
    return {"UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(UV_CACHE)), "UV_NATIVE_TLS": "1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_healthz(process: subprocess.Popen, port: int, what: str, output: Path, timeout: float = 60) -> None:
    """Until GET /healthz on `port` answers 200; fails, with the end of `output`, if `process` (which
    runs `what`) exits first or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, f"{what} exited {process.returncode}:\n{output.read_text()[-6000:]}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"{what} did not answer in {timeout} s:\n{output.read_text()[-6000:]}"
        time.sleep(0.1)


# --- a baked project


@dataclass
class Baked:
    """A baked project and the full set of answers that made it; once installed, the python of
    its environment, which runs its tasks and serves it."""

    path: Path
    context: dict
    python: Path | None = None
    uv_python: str = ""  # the Python a uv project's .venv was made from
    # The WSGI app `serve` runs unless told another: the project's own (`wsgi_app`) unless set.
    app: str = ""

    @property
    def wsgi_app(self) -> str:
        return f"{self.context['package_name']}.wsgi:app"

    # reading

    def __getitem__(self, relative: str) -> Path:
        return self.path / relative

    def exists(self, relative: str) -> bool:
        return (self.path / relative).exists()

    def files(self) -> list[Path]:
        return sorted(p for p in self.path.rglob("*") if p.is_file() and ".venv" not in p.parts)

    def text(self, relative: str) -> str:
        return (self.path / relative).read_text("utf-8")

    def yaml(self, relative: str):
        return yaml.safe_load(self.text(relative))

    def toml(self, relative: str) -> dict:
        return tomllib.loads(self.text(relative))

    def module(self, relative: str) -> ModuleType:
        """A module of the project, loaded from its file, leaving no bytecode behind (a shared bake
        stays as baked)."""
        path = self.path / relative
        spec = importlib.util.spec_from_file_location(f"baked_{path.stem}_{id(self)}", path)
        module = importlib.util.module_from_spec(spec)
        writes, sys.dont_write_bytecode = sys.dont_write_bytecode, True
        try:
            spec.loader.exec_module(module)
        finally:
            sys.dont_write_bytecode = writes
        return module

    def workflow(self, name: str) -> dict:
        """A generated workflow, its `on` key as written (YAML 1.1 reads `on` as true)."""
        data = self.yaml(f".github/workflows/{name}")
        data["on"] = data.pop(True, data.get("on"))
        return data

    # running

    def run(self, *command, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
        """Run a command in the project's folder; on failure, fail the test with its output."""
        return run(list(command), self.path, env=env, timeout=timeout)

    def install(self, venv: Path | None = None, groups: tuple[str, ...] = ("test", "lint")) -> Path:
        """The fast way: a venv (beside the project unless `venv` is given) with the project installed
        from its own pins by uv, from the shared cache; returns its python, which `run_task` and
        `serve` use from then on.

        The hashed requirements go in first (requirements-test.txt too when `groups` is not empty);
        then the project itself, editable, with `groups`, which adds only what pyproject.toml asks for
        beyond the pins (nothing, once they are fresh). Bytecode is compiled up front, as in an image.
        """
        venv = venv or self.path.parent / "venv"
        uv = [sys.executable, "-m", "uv"]
        env = {**uv_environment(), "UV_COMPILE_BYTECODE": "1"}
        python = find_python(answers.python_versions(self.context["python_versions"]))
        self.run(*uv, "venv", "--quiet", "--python", python, venv, env=env)
        self.python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        install = [*uv, "pip", "install", "--quiet", "--python", self.python]
        requirements = ["-r", "requirements.txt"] + (["-r", "requirements-test.txt"] if groups else [])
        self.run(*install, *requirements, env=env)
        self.run(*install, "-e", ".", *(f"--group={group}" for group in groups), env=env)
        return self.python

    def install_as_owner(self) -> Path:
        """The README's way: `python tasks.py install` into the project's .venv (made by uv for a
        uv project, by `python -m venv` for a pip one); returns its python, as `install` does."""
        python = find_python(answers.python_versions(self.context["python_versions"]))
        if self.context["package_manager"] == "uv":
            # uv makes .venv from it; the tasks that add groups (bandit, audit) keep to it, as CI's
            # setup-uv does, rather than look for .python-version's Python, which may be missing here.
            self.uv_python = python
            self.run(python, "tasks.py", "install", env={"UV_PYTHON": python})
        else:
            self.run(python, "-m", "venv", ".venv")
        self.python = self.path / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        if self.context["package_manager"] == "pip":
            self.run_task("install")
        return self.python

    def run_task(self, *tasks: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """`python tasks.py TASK...`: with the environment's python once installed, else with the
        tests' own (tasks.py itself needs only the standard library)."""
        command = [str(self.python or sys.executable), "tasks.py", *tasks]
        env = {"UV_PYTHON": self.uv_python, **(env or {})} if self.uv_python else env
        if check:
            return self.run(*command, env=env)
        return subprocess.run(
            command, cwd=self.path, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=900
        )

    @contextmanager
    def serve(
        self, app: str | None = None, config: str = "gunicorn.conf.py", ready: str | None = "/readyz", **environ: str
    ) -> Iterator[Server]:
        """The real gunicorn with `config` (the project's gunicorn.conf.py) serving `app` on a free
        loopback port, in production mode with three workers unless `environ` says otherwise; yielded
        once `ready` answers 200 (at once when None), stopped as Ctrl-C stops it on leaving."""
        assert self.python, "install the project before serving it"
        port = free_port()
        env = {
            **{name: value for name, value in os.environ.items() if name != "PROMETHEUS_MULTIPROC_DIR"},
            "APP_ENV": "production",
            "SECRET_KEY": "service-tests",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "3",
            **environ,
        }
        log = self.path.parent / f"gunicorn-{port}.log"
        with log.open("wb") as output:
            command = [str(self.python), "-m", "gunicorn", "-c", config, app or self.app or self.wsgi_app]
            process = subprocess.Popen(command, cwd=self.path, env=env, stdout=output, stderr=output)
        server = Server(process, port, log)
        try:
            deadline = time.monotonic() + 30
            while ready:
                assert process.poll() is None, f"gunicorn exited early:\n{log.read_text()[-3000:]}"
                try:
                    if server.request("GET", ready, timeout=2)[0] == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, f"gunicorn did not get ready:\n{log.read_text()[-3000:]}"
                time.sleep(0.05)
            yield server
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=30)


@dataclass
class Server:
    """A running gunicorn of `Baked.serve`: its master process, port and log."""

    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method, path, body=None, headers=None, timeout=10.0):
        """(status, headers, body bytes); raises OSError when the connection fails."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def workers(self) -> set[int]:
        pid = self.process.pid
        return set(map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split()))


# --- baking


def bake(cookies, **overrides) -> Baked:
    """Bake with the defaults plus `overrides`; fail the test with cookiecutter's error if it fails."""
    result = cookies.bake(extra_context=overrides)
    assert result.exit_code == 0, f"bake failed for {overrides}: {result.exception}"
    return Baked(Path(result.project_path), result.context)


class Bakes:
    """A session's bakes, one per distinct set of answers (the `baked` fixture in conftest.py), for
    tests that only read them: `changed()` names any whose files a test changed after all."""

    def __init__(self, cookies_session):
        self._cookies = cookies_session
        self._projects: dict[str, Baked] = {}
        self._contents: dict[str, dict[str, str]] = {}

    def __call__(self, **overrides) -> Baked:
        key = json.dumps(overrides, sort_keys=True)
        if key not in self._projects:
            self._projects[key] = bake(self._cookies, **overrides)
            self._contents[key] = contents(self._projects[key].path)
        return self._projects[key]

    def changed(self) -> dict[str, list[str]]:
        """The answers of each shared bake whose files changed -> the files added, removed or changed."""
        found = {}
        for key, project in self._projects.items():
            before, now = self._contents[key], contents(project.path)
            if now != before:
                found[key] = sorted(name for name in before.keys() | now.keys() if before.get(name) != now.get(name))
        return found


def contents(folder: Path) -> dict[str, str]:
    """Every file under `folder` (bytecode caches too) -> a digest of its bytes."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in folder.rglob("*")
        if path.is_file()
    }


def cookiecutter_command(
    output: Path,
    *answers: str,
    options: tuple[str, ...] = ("--no-input",),
    template: str = str(ROOT),
    cwd: Path | None = None,
    env: dict | None = None,
) -> subprocess.CompletedProcess:
    """The cookiecutter command as a user runs it (`cookiecutter OPTIONS TEMPLATE -o OUTPUT NAME=VALUE...`),
    its stdout and stderr in one stream, as a terminal shows them; its exit code is the caller's to check."""
    output.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [COOKIECUTTER, *options, template, "-o", str(output), *answers],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
