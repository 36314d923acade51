"""Headers for a JSON API, trusted proxies, and CORS (closed unless configured)."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

# Nothing here is a page: no scripts, frames or embedding, no referrer to leak.
HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
]
# API answers are for this caller, now: not for shared caches. A view may say otherwise.
CACHE_CONTROL = ("Cache-Control", "no-store")
CORS_ALLOW_HEADERS = "Content-Type, Authorization, X-Request-ID"
CORS_MAX_AGE = "600"


def init_app(app: Flask) -> None:
    """ProxyFix and CORS, when configured. The API's headers: per_request.py."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        # Client address, scheme, host, port and prefix as the last `hops` proxies saw.
        app.wsgi_app = ProxyFix(
            app.wsgi_app,
            x_for=hops,
            x_proto=hops,
            x_host=hops,
            x_port=hops,
            x_prefix=hops,
        )
    if app.config["CORS_ORIGINS"]:
        app.wsgi_app = Cors(app.wsgi_app, frozenset(app.config["CORS_ORIGINS"]))


def api_headers(config) -> list[tuple[str, str]]:
    """The headers of every answer but Cache-Control, which a view may set: the app's
    (per_request.py) and the server's own error answers (server.py)."""
    headers = list(HEADERS)
    if config.get("HSTS_SECONDS"):
        # No redirect to HTTPS here: TLS ends at the proxy, and probes come over HTTP.
        max_age = config["HSTS_SECONDS"]
        headers.append(("Strict-Transport-Security", f"max-age={max_age}"))
    return headers


class Cors:
    """WSGI middleware letting browsers on `origins` ("*": any) call the API, without
    credentials."""

    def __init__(self, wsgi_app, origins: frozenset[str]) -> None:
        self.wsgi_app = wsgi_app
        self.any_origin = "*" in origins
        self.origins = origins

    def __call__(self, environ, start_response):
        origin = environ.get("HTTP_ORIGIN")
        if origin is None or not (self.any_origin or origin in self.origins):
            allowed = []
        else:
            allowed = [
                ("Access-Control-Allow-Origin", "*" if self.any_origin else origin),
                ("Access-Control-Expose-Headers", "X-Request-ID"),
            ]
        preflight = (
            allowed
            and environ["REQUEST_METHOD"] == "OPTIONS"
            and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
        )

        def start_response_with_cors(status, headers, exc_info=None):
            if preflight:
                # Flask's automatic OPTIONS answer lists the route's methods in Allow.
                methods = next((v for n, v in headers if n.lower() == "allow"), "")
                allowed.append(("Access-Control-Allow-Methods", methods))
                allowed.append(("Access-Control-Allow-Headers", CORS_ALLOW_HEADERS))
                allowed.append(("Access-Control-Max-Age", CORS_MAX_AGE))
            headers.append(("Vary", "Origin"))
            headers.extend(allowed)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start_response_with_cors)
