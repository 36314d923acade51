"""Configuration from environment variables, with defaults per APP_ENV."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping

ENVIRONMENTS = ("development", "testing", "production")


class ConfigError(RuntimeError):
    """The process cannot start with this environment."""


def load_config(environ: Mapping[str, str] = os.environ) -> dict:
    app_env = environ.get("APP_ENV", "production")
    if app_env not in ENVIRONMENTS:
        raise ConfigError(
            f"APP_ENV={app_env!r} is not one of {', '.join(ENVIRONMENTS)}"
        )

    secret_key = environ.get("SECRET_KEY", "")
    if not secret_key:
        if app_env == "production":
            raise ConfigError(
                "SECRET_KEY is not set: production needs a long random value, e.g. from"
                ' python -c "import secrets; print(secrets.token_hex(32))"'
            )
        # Development and tests get a throwaway key, new at every start.
        secret_key = secrets.token_hex(32)

    return {
        "APP_ENV": app_env,
        "DEBUG": app_env == "development",
        "TESTING": app_env == "testing",
        "SECRET_KEY": secret_key,
        "LOG_LEVEL": environ.get(
            "LOG_LEVEL", "DEBUG" if app_env == "development" else "INFO"
        ).upper(),
        # Flask answers 413 to bodies larger than this.
        "MAX_CONTENT_LENGTH": whole_number(environ, "MAX_CONTENT_LENGTH", 1024 * 1024),
        # Baked into the image at build time, so /version proves what is running.
        "GIT_COMMIT": environ.get("GIT_COMMIT", "unknown"),
        # The release being built (a tag); empty: the installed package's version.
        "APP_VERSION": environ.get("APP_VERSION", ""),
        # How many proxies in front (load balancer, ingress) set X-Forwarded-* headers;
        # 0 trusts none, as a client could forge them.
        "TRUSTED_PROXIES": whole_number(environ, "TRUSTED_PROXIES", 0),
        # Browser origins allowed to call the API (CORS); none unless listed.
        "CORS_ORIGINS": [
            origin.strip()
            for origin in environ.get("CORS_ORIGINS", "").split(",")
            if origin.strip()
        ],
        # Strict-Transport-Security max-age (browsers heed it over HTTPS only); 0: none.
        "HSTS_SECONDS": whole_number(
            environ, "HSTS_SECONDS", 365 * 24 * 3600 if app_env == "production" else 0
        ),
{%- if cookiecutter.error_tracking == "sentry" %}
        # Errors go to Sentry only when this is set.
        "SENTRY_DSN": environ.get("SENTRY_DSN", ""),
{%- endif %}
    }


def whole_number(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name, str(default))
    if not (value.isascii() and value.isdigit()):
        raise ConfigError(f"{name}={value!r} must be a whole number")
    return int(value)
