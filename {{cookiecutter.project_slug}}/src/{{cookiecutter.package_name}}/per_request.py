"""What every request gets, in one WSGI layer: its id (request_id.py), the API's
headers (security.py){% if cookiecutter.metrics == "prometheus" %} and its count and time in the metrics (metrics.py){% endif %}.

WSGI middleware rather than Flask's before and after hooks, and one layer rather than
one for each: a layer and its start_response wrapper cost more than the work each one
does (the template's benchmarks/bench_request.py)."""

from __future__ import annotations
{%- if cookiecutter.metrics == "prometheus" %}

from time import perf_counter
{%- endif %}

from flask import Flask

from .logs import REQUEST_ID
from .request_id import ACCEPTED_ID, HEADER, forget, random_bits
from .security import CACHE_CONTROL, api_headers
{%- if cookiecutter.metrics == "prometheus" %}


def init_app(app: Flask, metrics=None) -> None:
    app.wsgi_app = PerRequest(app.wsgi_app, api_headers(app.config), metrics)
{%- else %}


def init_app(app: Flask) -> None:
    app.wsgi_app = PerRequest(app.wsgi_app, api_headers(app.config))
{%- endif %}


class PerRequest:
{%- if cookiecutter.metrics == "prometheus" %}
    def __init__(self, wsgi_app, headers: list[tuple[str, str]], metrics=None) -> None:
{%- else %}
    def __init__(self, wsgi_app, headers: list[tuple[str, str]]) -> None:
{%- endif %}
        self.wsgi_app = wsgi_app
        self.headers = headers
        self.headers_and_cache_control = [CACHE_CONTROL, *headers]
{%- if cookiecutter.metrics == "prometheus" %}
        self.metrics = metrics  # a metrics.RequestMetrics, or None
{%- endif %}

    def __call__(self, environ, start_response):
{%- if cookiecutter.metrics == "prometheus" %}
        started = perf_counter()
{%- endif %}
        request_id = environ.get("HTTP_X_REQUEST_ID")
        if request_id is None or not ACCEPTED_ID.match(request_id):
            # 32 hex digits, as secrets.token_hex(16) gives, with no system call.
            request_id = random_bits(128).to_bytes(16, "big").hex()
        # In every log line until the server closes the body (request_id.Response).
        REQUEST_ID.set(request_id)
{%- if cookiecutter.metrics == "prometheus" %}
        answered = rule = None
{%- endif %}

        def start_response_wrapped(status, headers, exc_info=None):
{%- if cookiecutter.metrics == "prometheus" %}
            nonlocal answered, rule
            answered = status
            # The route Flask matched, while its request is in the environ.
            rule = getattr(environ.get("werkzeug.request"), "url_rule", None)
{%- endif %}
            # A plain loop: a generator in any() costs more than the few headers.
            for name, _ in headers:
                if name.lower() == "cache-control":  # the view's own
                    headers.extend(self.headers)
                    break
            else:
                headers.extend(self.headers_and_cache_control)
            headers.append((HEADER, request_id))
            return start_response(status, headers, exc_info)

        try:
            return self.wsgi_app(environ, start_response_wrapped)
        except BaseException:
            forget()
            raise
{%- if cookiecutter.metrics == "prometheus" %}
        finally:
            # None: the app raised before answering, which only a test's app does.
            if answered is not None and self.metrics is not None:
                seconds = perf_counter() - started
                self.metrics.count(environ["REQUEST_METHOD"], rule, answered, seconds)
{%- endif %}
