"""Every error is a JSON problem document (RFC 9457), never an HTML page."""

from __future__ import annotations

import flask
import structlog
from flask import Flask, Response, current_app, got_request_exception, jsonify
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
)

log = structlog.get_logger(__name__)


def problem(status: int, title: str, detail: str | None = None) -> Response:
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


class UnreadBody(BadRequest):
    """A body that could not be read to its end."""


class Request(flask.Request):
    """Flask's request: what a client gets wrong in a body is a 4xx, not a bug."""

    def get_data(self, cache=True, as_text=False, parse_form_data=False):
        try:
            data = super().get_data(cache, as_text, parse_form_data)
            # A body without a length (chunked) is cut at MAX_CONTENT_LENGTH: a byte
            # more behind it means it was larger, as a length would say up front.
            exhausted = getattr(self.stream, "is_exhausted", False)
            larger = (
                self.content_length is None and exhausted and self.input_stream.read(1)
            )
        except HTTPException:
            raise
        except Exception as error:  # broken chunked framing, or a body cut short
            raise UnreadBody(f"The request body is malformed: {error}") from None
        if larger:
            raise RequestEntityTooLarge()
        return data

    def get_json(self, force=False, silent=False, cache=True):
        try:
            return super().get_json(force, silent, cache)
        except RecursionError:  # [[[[...]]]] nested too deep for Python's parser
            if silent:
                return None
            raise BadRequest("The JSON body is nested too deeply.") from None


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        response = problem(error.code or 500, error.name, error.description)
        # Keep the headers the error carries, such as Allow on a 405.
        response.headers.extend(
            (k, v) for k, v in error.get_headers() if k != "Content-Type"
        )
        if isinstance(error, UnreadBody | RequestEntityTooLarge):
            # The rest of the body is unread: no next request can follow it on this
            # connection, which the server closes (server.Response), reading no more.
            response.headers["Connection"] = "close"
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> Response:
        log.exception("unhandled_error")
        # Handled here, so Flask does not send this signal: error trackers listen to it.
        got_request_exception.send(current_app._get_current_object(), exception=error)
        return problem(500, "Internal Server Error", InternalServerError.description)
