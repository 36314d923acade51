"""Liveness, readiness and version endpoints for probes and deploy checks."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app


class Readiness:
    """Checks that must pass before taking traffic; all fail once shutting down."""

    def __init__(self) -> None:
        self.checks: dict[str, Callable[[], bool]] = {}
        self.shutting_down = False

    def add_check(self, name: str, check: Callable[[], bool]) -> None:
        self.checks[name] = check

    def failing(self) -> list[str]:
        failed = ["shutting_down"] if self.shutting_down else []
        for name, check in self.checks.items():
            try:
                ok = check()
            except Exception:  # a check that raises is a failed check
                ok = False
            if not ok:
                failed.append(name)
        return failed


def init_app(app: Flask) -> None:
    app.extensions["readiness"] = Readiness()
    # On the app itself: a blueprint costs every request of its routes a little more,
    # and probes come all day long.
    app.get("/healthz")(healthz)
    app.get("/readyz")(readyz)
    app.get("/version")(version)


# Dicts, which Flask answers as JSON: cheaper than jsonify, for probes all day long.
def healthz():
    return {"status": "ok"}


def readyz():
    failing = current_app.extensions["readiness"].failing()
    if failing:
        return {"status": "unavailable", "failing": failing}, 503
    return {"status": "ready"}


def version():
    from . import __version__

    return {
        "name": "{{ cookiecutter.project_slug }}",
        "version": current_app.config["APP_VERSION"] or __version__,
        "commit": current_app.config["GIT_COMMIT"],
    }
