"""Configuration from environment variables, with defaults per APP_ENV.

SETTINGS declares every variable the service reads (here and in gunicorn.conf.py), once:
.env.example, the README's table and what each deploy target passes are made from it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

ENVIRONMENTS = ("development", "testing", "production")


class Setting(NamedTuple):
    name: str
    default: str  # as the README shows it; "" for none
    meaning: str
    # What .env.example sets for a local run; None leaves the setting out of it.
    local: str | None = None
    # Secret: every deploy target delivers it from its secret store; never in git.
    secret: bool = False


SETTINGS = (
    Setting(
        "APP_ENV",
        "`production`",
        "`development`, `testing` or `production`",
        local="development",
    ),
    Setting(
        "SECRET_KEY",
        "(required in production)",
        'a long random value: `python -c "import secrets; print(secrets.token_hex())"`',
        local="",
        secret=True,
    ),
    Setting(
        "SECRETS_DIR",
        "(none)",
        "a folder of files named after secret settings (a mounted Kubernetes or Docker"
        " secret), read for each secret that the environment does not set",
    ),
    Setting(
        "LOG_LEVEL",
        "`INFO` (`DEBUG` in development)",
        "level of the JSON logs on stdout",
        local="INFO",
    ),
    Setting(
        "MAX_CONTENT_LENGTH",
        "`1048576`",
        "largest request body in bytes (larger: 413)",
        local="1048576",
    ),
    Setting("PORT", "`8000`", "where gunicorn and `tasks.py dev` listen", local="8000"),
    Setting("WEB_CONCURRENCY", "`2`", "gunicorn's worker processes", local="2"),
    Setting("GUNICORN_THREADS", "`4`", "threads per worker (slow clients hold none)"),
    Setting("GUNICORN_TIMEOUT", "`30`", "seconds before a stuck worker is replaced"),
    Setting("GUNICORN_BIND", "`0.0.0.0:$PORT`", "gunicorn's address, if not `PORT`'s"),
    Setting(
        "SHUTDOWN_DRAIN_SECONDS",
        "`5`",
        "after SIGTERM, how long `/readyz` says 503 while requests are still served",
        local="5",
    ),
    Setting(
        "GUNICORN_GRACEFUL_TIMEOUT",
        "`20`",
        "after SIGTERM, when gunicorn kills requests still running",
        local="20",
    ),
    Setting(
        "GUNICORN_MAX_REQUESTS",
        "`100000`",
        "requests after which a worker is replaced (staggered by up to 10 %), to bound"
        " slow memory growth; `0`: never",
    ),
    Setting(
        "ACCESS_LOG",
        "`1`",
        "`0` turns off the access log (one JSON line per request)",
        local="1",
    ),
    Setting(
        "FORWARDED_ALLOW_IPS",
        "`127.0.0.1`",
        "addresses gunicorn takes `X-Forwarded-*` headers from",
    ),
    Setting(
        "TRUSTED_PROXIES",
        "`0`",
        "how many proxies in front set `X-Forwarded-*` (`1` behind a load balancer)",
        local="0",
    ),
    Setting(
        "CORS_ORIGINS",
        "(none)",
        "comma-separated origins allowed to call the API from a browser; `*` for any",
        local="",
    ),
    Setting(
        "HSTS_SECONDS",
        "`31536000` in production, else `0`",
        "`Strict-Transport-Security` max-age; `0` sends none",
        local="0",
    ),
    Setting("GIT_COMMIT", "`unknown`", "the commit `/version` reports (the image's)"),
    Setting("APP_VERSION", "the package's", "the version `/version` reports"),
{%- if cookiecutter.metrics == "prometheus" %}
    Setting(
        "PROMETHEUS_MULTIPROC_DIR",
        "a new temporary folder",
        "where the workers keep their metrics; emptied when the server starts",
    ),
{%- endif %}
{%- if cookiecutter.error_tracking == "sentry" %}
    Setting(
        "SENTRY_DSN",
        "(none)",
        "where errors go; unset, nothing is sent",
        local="",
        secret=True,
    ),
    Setting("SENTRY_ENVIRONMENT", "`production`", "the environment Sentry files under"),
{%- endif %}
)


class ConfigError(RuntimeError):
    """The process cannot start with this environment."""


def load_config(environ: Mapping[str, str] = os.environ) -> dict:
    environ = with_secret_files(environ)
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
        # Errors go to Sentry only when this is set, filed under this environment.
        "SENTRY_DSN": environ.get("SENTRY_DSN", ""),
        "SENTRY_ENVIRONMENT": environ.get("SENTRY_ENVIRONMENT", "production"),
{%- endif %}
    }


def whole_number(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name, str(default))
    if not (value.isascii() and value.isdigit()):
        raise ConfigError(f"{name}={value!r} must be a whole number")
    return int(value)


def with_secret_files(environ: Mapping[str, str]) -> Mapping[str, str]:
    """`environ`, plus each secret setting it lacks, read from SECRETS_DIR/<NAME>: a
    secret mounted as a file is not in the process's environment or `docker inspect`.
    """
    folder = environ.get("SECRETS_DIR")
    if not folder:
        return environ
    merged = dict(environ)
    for setting in SETTINGS:
        path = Path(folder) / setting.name
        if setting.secret and not environ.get(setting.name) and path.is_file():
            merged[setting.name] = path.read_text("utf-8").strip()
    return merged
