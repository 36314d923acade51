"""Headers for a JSON API, trusted proxies, and CORS (closed unless configured)."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

# Nothing here is a page: no scripts, frames or embedding, no referrer to leak.
HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
]
# API answers are for this caller, now: not for shared caches. A view may say otherwise.
CACHE_CONTROL = "no-store"
CORS_ALLOW_HEADERS = "Content-Type, Authorization, X-Request-ID"
CORS_MAX_AGE = "600"


def init_app(app: Flask) -> None:
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

    headers = list(HEADERS)
    if app.config["HSTS_SECONDS"]:
        # No redirect to HTTPS here: TLS ends at the proxy, and probes come over HTTP.
        max_age = app.config["HSTS_SECONDS"]
        headers.append(("Strict-Transport-Security", f"max-age={max_age}"))

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        response.headers.extend(headers)
        if "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = CACHE_CONTROL
        return response

    if app.config["CORS_ORIGINS"]:
        init_cors(app, frozenset(app.config["CORS_ORIGINS"]))


def init_cors(app: Flask, origins: frozenset[str]) -> None:
    """Let browsers on `origins` ("*": any) call the API, without credentials."""

    @app.after_request
    def add_cors_headers(response: Response) -> Response:
        response.vary.add("Origin")
        origin = request.headers.get("Origin")
        if origin is None or not ("*" in origins or origin in origins):
            return response
        headers = response.headers
        headers["Access-Control-Allow-Origin"] = "*" if "*" in origins else origin
        headers["Access-Control-Expose-Headers"] = "X-Request-ID"
        preflight = "Access-Control-Request-Method" in request.headers
        if preflight and request.method == "OPTIONS":
            # Flask's automatic OPTIONS answer lists the route's methods in Allow.
            headers["Access-Control-Allow-Methods"] = headers.get("Allow", "")
            headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
            headers["Access-Control-Max-Age"] = CORS_MAX_AGE
        return response
