"""Run a generated README's shell blocks as a newcomer would: in order, as written, with
nothing on PATH but one Python (and git) and nothing installed that the README does not
install. Used by test_readme_flow.py here and by the template's CI on Windows and macOS.

Conventions the README keeps, so that its blocks can be run:
  - one command a line (a trailing backslash continues it), a comment after two spaces;
  - a command whose comment says "on http://127.0.0.1:PORT" serves until stopped: it is
    started, must answer GET /healthz and /version there, then is stopped;
  - a comment "(PowerShell: ...)" gives the Windows form; "(Linux and macOS)" means it does
    not run on Windows.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

WINDOWS = os.name == "nt"
# What a newcomer's machine lacks until the README installs it: a folder on PATH holding
# one of these is left off PATH (a system folder with only `python3` and `pip` stays).
NOT_PREINSTALLED = ("python", "uv", "uvx", "ruff", "black", "flake8", "pytest", "gunicorn", "flask", "pre-commit")
# The README's sections a newcomer runs first, in this order.
SECTIONS = ["Run it", "Test it"]
SERVES = re.compile(r"\bon http://127\.0\.0\.1:(\d+)")
POWERSHELL = re.compile(r"\(PowerShell: (.+)\)\s*$")


@dataclass
class Command:
    line: str  # as written, without its comment
    comment: str

    @property
    def port(self) -> int | None:
        match = SERVES.search(self.comment)
        return int(match[1]) if match else None

    @property
    def runs_here(self) -> bool:
        return not (WINDOWS and "(Linux and macOS)" in self.comment)

    @property
    def shell_line(self) -> str:
        if WINDOWS and (match := POWERSHELL.search(self.comment)):
            return match[1]
        return self.line


def section(readme: str, title: str) -> str:
    """The text of `## title` up to the next `## ` heading ('' when there is none)."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    return match[1] if match else ""


def commands(text: str) -> list[Command]:
    """The commands of the ```sh blocks in `text`, in order."""
    found = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, re.M | re.S):
        for line in block.replace("\\\n", " ").splitlines():
            command, comment = re.match(r"^(.*?)(?:\s{2,}#\s?(.*))?$", line).groups()
            if command.strip():
                found.append(Command(command.strip(), (comment or "").strip()))
    return found


def clean_environment(python: Path, home: Path) -> dict[str, str]:
    """os.environ with PATH cut down to `python`'s folder and the folders that hold none of
    NOT_PREINSTALLED, and no virtual environment or Python settings of the caller's."""
    suffix = ".exe" if WINDOWS else ""

    def preinstalled(folder: str) -> bool:
        return any((Path(folder) / f"{name}{suffix}").exists() for name in NOT_PREINSTALLED)

    kept = [folder for folder in os.environ["PATH"].split(os.pathsep) if folder and not preinstalled(folder)]
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX", "UV_PYTHON")
        and not name.startswith(("PYTEST_", "UV_PROJECT"))
    }
    env["PATH"] = os.pathsep.join([str(python.parent), installed_folder(python), *kept])
    # Git needs a name for the README's first commit, as on any newcomer's machine.
    for role in ("AUTHOR", "COMMITTER"):
        env[f"GIT_{role}_NAME"] = "Newcomer"
        env[f"GIT_{role}_EMAIL"] = "newcomer@example.com"
    env["GIT_CONFIG_GLOBAL"] = str(home / ".gitconfig")
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = master\n", "utf-8")
    return env


def fresh_python(base: str, where: Path) -> Path:
    """A Python of its own for the newcomer (a venv of `base`): what the README installs
    with it, such as uv, goes there and nowhere else. `base` itself stays reachable, after
    it on PATH (`installed`), as an installer leaves it: uv makes project environments from
    an installed Python, never from another virtual environment."""
    subprocess.run([base, "-m", "venv", str(where / "venv")], check=True)
    installed = where / "installed"
    if WINDOWS:  # python.exe needs its DLLs beside it: the install's own folder, behind the venv
        installed.write_text(str(Path(base).resolve().parent), "utf-8")
    else:  # only the versioned name (python3.13): `python` stays the venv's
        installed.mkdir()
        version = subprocess.run(
            [base, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        (installed / f"python{version}").symlink_to(Path(base).resolve())
    return where / "venv" / ("Scripts/python.exe" if WINDOWS else "bin/python")


def installed_folder(python: Path) -> str:
    installed = python.parents[2] / "installed"
    return installed.read_text("utf-8") if installed.is_file() else str(installed)


def free_port() -> int:  # as helpers.free_port: this script runs alone, on Windows and macOS too
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def shell(command: str) -> list[str]:
    if WINDOWS:
        return [
            "pwsh",
            "-NoProfile",
            "-NonInteractive",
            "-Command",
            f"$ErrorActionPreference='Stop'; {command}; exit $LASTEXITCODE",
        ]
    return [shutil.which("bash") or "/bin/bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command]


def run_command(command: Command, cwd: Path, env: dict[str, str], timeout: int = 900) -> None:
    result = subprocess.run(
        shell(command.shell_line), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, (
        f"README command `{command.shell_line}` exited {result.returncode}\n"
        f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
    )


def run_serving_command(command: Command, cwd: Path, env: dict[str, str], name: str, timeout: float = 90) -> dict:
    """Start a serving command with PORT set to a free port (the environment wins over .env,
    as the README says), wait for /healthz, return /version, stop it."""
    port = free_port()
    env = {**env, "PORT": str(port)}
    log = cwd / f".readme-flow-{command.port}.log"
    flags = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if WINDOWS else {"start_new_session": True}
    with log.open("w") as output:
        process = subprocess.Popen(
            shell(command.shell_line), cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, **flags
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert process.poll() is None, f"`{command.line}` exited {process.returncode}:\n{log.read_text()[-6000:]}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, (
                f"`{command.line}` did not answer in {timeout} s:\n{log.read_text()[-6000:]}"
            )
            time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/version", timeout=5) as response:
            version = json.load(response)
        assert version["name"] == name, version
        return version
    finally:
        stop(process)
        log.unlink(missing_ok=True)


def stop(process: subprocess.Popen) -> None:
    if WINDOWS:
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(process.pid)], capture_output=True)
    else:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        if not WINDOWS:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_sections(project: Path, readme: str, titles: list[str], env: dict[str, str], name: str) -> list[str]:
    """Run every command of the README sections `titles`, in order; returns what ran."""
    ran = []
    for title in titles:
        found = commands(section(readme, title))
        assert found, f"the README has no commands under '## {title}'"
        for command in found:
            if not command.runs_here:
                continue
            if command.port:
                run_serving_command(command, project, env, name)
            else:
                run_command(command, project, env)
            ran.append(command.shell_line)
    return ran


if __name__ == "__main__":  # python tests/readme_flow.py PROJECT BASE_PYTHON [SECTION...]
    project_dir, base, *titles = sys.argv[1:]
    project_path = Path(project_dir).resolve()
    newcomer = fresh_python(base, project_path.parent / "newcomer")
    environment = clean_environment(newcomer, project_path.parent)
    text = (project_path / "README.md").read_text("utf-8")
    for done in run_sections(project_path, text, titles or SECTIONS, environment, project_path.name):
        print("ran:", done)
