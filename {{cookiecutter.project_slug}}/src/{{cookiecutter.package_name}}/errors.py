"""Every error is a JSON problem document (RFC 9457), never an HTML page."""

from __future__ import annotations

import structlog
from flask import Flask, Response, current_app, got_request_exception, jsonify
from werkzeug.exceptions import HTTPException, InternalServerError

log = structlog.get_logger(__name__)


def problem(status: int, title: str, detail: str | None = None) -> Response:
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        response = problem(error.code or 500, error.name, error.description)
        # Keep the headers the error carries, such as Allow on a 405.
        response.headers.extend(
            (k, v) for k, v in error.get_headers() if k != "Content-Type"
        )
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> Response:
        log.exception("unhandled_error")
        # Handled here, so Flask does not send this signal: error trackers listen to it.
        got_request_exception.send(current_app._get_current_object(), exception=error)
        return problem(500, "Internal Server Error", InternalServerError.description)
