"""A request id per request: the caller's X-Request-ID when sane, else a new one."""

from __future__ import annotations

import re
import uuid

import structlog
from flask import Flask, Response, g, request

HEADER = "X-Request-ID"
# Accept the caller's id only when it cannot smuggle anything into logs or headers.
ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def init_app(app: Flask) -> None:
    @app.before_request
    def bind_request_id() -> None:
        incoming = request.headers.get(HEADER, "")
        g.request_id = incoming if ACCEPTED_ID.match(incoming) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.after_request
    def return_request_id(response: Response) -> Response:
        response.headers[HEADER] = g.get("request_id") or uuid.uuid4().hex
        return response

    @app.teardown_request
    def forget_request_id(_error: BaseException | None) -> None:
        # Logs between requests (a worker exiting, say) belong to no request.
        structlog.contextvars.clear_contextvars()
