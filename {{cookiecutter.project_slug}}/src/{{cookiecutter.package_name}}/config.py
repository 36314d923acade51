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

    try:
        max_content_length = int(environ.get("MAX_CONTENT_LENGTH", 1024 * 1024))
    except ValueError:
        raise ConfigError("MAX_CONTENT_LENGTH must be a number of bytes") from None

    return {
        "APP_ENV": app_env,
        "DEBUG": app_env == "development",
        "TESTING": app_env == "testing",
        "SECRET_KEY": secret_key,
        "LOG_LEVEL": environ.get(
            "LOG_LEVEL", "DEBUG" if app_env == "development" else "INFO"
        ).upper(),
        # Flask answers 413 to bodies larger than this.
        "MAX_CONTENT_LENGTH": max_content_length,
        # Baked into the image at build time, so /version proves what is running.
        "GIT_COMMIT": environ.get("GIT_COMMIT", "unknown"),
        # The release being built (a tag); empty: the installed package's version.
        "APP_VERSION": environ.get("APP_VERSION", ""),
    }
