"""A request id per request: the caller's X-Request-ID when sane, else a new one
(per_request.py). It goes back in the response's X-Request-ID header and into every log
line written while the request is handled (logs.REQUEST_ID)."""

from __future__ import annotations

import os
import random
import re
from contextvars import copy_context

import flask
import structlog

from .logs import REQUEST_ID

HEADER = "X-Request-ID"
# Accept the caller's id only when it cannot smuggle anything into logs or headers.
ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# New ids are 128 bits from a generator of this process's own, seeded from os.urandom,
# and again in each worker gunicorn forks, so that no two workers share a sequence:
# unique as random 128-bit numbers are. os.urandom would make a system call a request
# and let go of the GIL for it, which under load hands it to another thread and back.
# Ids are not secrets: a caller may send any id it likes.
_ids = random.Random()  # noqa: S311  # nosec B311
if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_ids.seed)
random_bits = _ids.getrandbits


def forget() -> None:
    """The request's log context cleared: its id, and what a view bound with structlog's
    bind_contextvars. Nearly always there is none of that, which is cheap to see."""
    REQUEST_ID.set(None)
    if len(copy_context()) > 1:  # more variables set than REQUEST_ID
        structlog.contextvars.clear_contextvars()


class Response(flask.Response):
    """Flask's response (the app's response_class: every answer of the app is one),
    which forgets the request's log context once the server closes it. The id holds
    until the body is sent (a streamed body logs too); logs between requests (a worker
    exiting, say) belong to no request. Cheaper than wrapping the body in middleware."""

    def close(self) -> None:
        try:
            super().close()
        finally:
            forget()
