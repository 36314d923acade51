"""The {{ cookiecutter.project_slug }} service: `create_app` builds the Flask application."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flask import Flask

from . import api{% if cookiecutter.error_tracking == "sentry" %}, error_tracking{% endif %}, errors, health{% if cookiecutter.metrics == "prometheus" %}, metrics{% endif %}, request_id, security
from .config import load_config
from .logs import configure_logging

try:
    __version__ = version("{{ cookiecutter.project_slug }}")
except PackageNotFoundError:  # pragma: no cover - only when run from a bare checkout
    __version__ = "0+unknown"


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: configuration from the environment, then `overrides`."""
    app = Flask(__name__)
    app.config.from_mapping(load_config())
    app.config.update(overrides or {})
    configure_logging(app.config["LOG_LEVEL"])
{%- if cookiecutter.error_tracking == "sentry" %}
    error_tracking.init_app(app)
{%- endif %}
{%- if cookiecutter.metrics == "prometheus" %}
    # First, so that its timer starts before the other hooks and stops after them.
    metrics.init_app(app)
{%- endif %}
    request_id.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    health.init_app(app)
    app.register_blueprint(api.blueprint)
    return app
