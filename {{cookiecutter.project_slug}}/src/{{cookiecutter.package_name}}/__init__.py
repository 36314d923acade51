"""The {{ cookiecutter.project_slug }} service: `create_app` builds the Flask application."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flask import Flask, Response
from flask.sessions import SecureCookieSessionInterface

from . import (
    api,
{%- if cookiecutter.error_tracking == "sentry" %}
    error_tracking,
{%- endif %}
    errors,
    health,
{%- if cookiecutter.metrics == "prometheus" %}
    metrics,
{%- endif %}
    per_request,
    request_id,
    security,
)
from .config import load_config
from .logs import configure_logging

try:
    __version__ = version("{{ cookiecutter.project_slug }}")
except PackageNotFoundError:  # pragma: no cover - only when run from a bare checkout
    __version__ = "0+unknown"


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, at no cost to a request that brings no session
    cookie and leaves the session alone, as nearly all API requests do."""

    def open_session(self, app, request):
        # No Cookie header at all: skip parsing the headers for cookies, and the signer.
        if (
            "HTTP_COOKIE" not in request.environ
            or self.get_cookie_name(app) not in request.cookies
        ):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response) -> None:
        # Empty, unchanged and unread: Flask would send nothing either, only later.
        if session or session.modified or session.accessed:
            super().save_session(app, session, response)


class App(Flask):
    request_class = errors.Request
    response_class = request_id.Response
    session_interface = CookieSessions()

    def make_default_options_response(self) -> Response:
        # OPTIONS on any route: the methods it takes, no body (not an empty HTML page).
        response = super().make_default_options_response()
        response.status_code = 204
        del response.headers["Content-Type"]
        return response


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: configuration from the environment, then `overrides`."""
    app = App(__name__)
    app.config.from_mapping(load_config())
    app.config.update(overrides or {})
    configure_logging(app.config["LOG_LEVEL"])
{%- if cookiecutter.error_tracking == "sentry" %}
    error_tracking.init_app(app)
{%- endif %}
    errors.init_app(app)
    health.init_app(app)
    app.register_blueprint(api.blueprint)
    # WSGI middleware, each wrapping the app as it is so far.
    security.init_app(app)
{%- if cookiecutter.metrics == "prometheus" %}
    per_request.init_app(app, metrics.init_app(app))  # last: it times all the rest
{%- else %}
    per_request.init_app(app)
{%- endif %}
    return app
