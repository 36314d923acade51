"""Errors go to Sentry when SENTRY_DSN is set; without it nothing is set up or sent."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    dsn = app.config["SENTRY_DSN"]
    if not dsn:
        return
    # Imported only when used: the SDK is slow to import, and start-up time counts.
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration

    commit = app.config["GIT_COMMIT"]
    sentry_sdk.init(
        dsn=dsn,
        integrations=[FlaskIntegration()],
        # The commit names the release.
        release=None if commit == "unknown" else commit,
        environment=app.config["SENTRY_ENVIRONMENT"],
    )
