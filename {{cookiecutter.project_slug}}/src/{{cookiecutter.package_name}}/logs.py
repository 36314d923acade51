"""Structured JSON logs on stdout, one object per line, for app and gunicorn."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from contextlib import contextmanager, suppress
from contextvars import ContextVar

import structlog
from gunicorn.glogging import Logger as GunicornBaseLogger

# The id of the request being handled (request_id.py): a variable of our own, cheaper to
# set and forget per request than structlog's bind_contextvars and clear_contextvars.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


def add_request_id(logger, method_name: str, event_dict: dict) -> dict:
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


TIMESTAMPER = structlog.processors.TimeStamper(fmt="iso", utc=True)
SHARED_PROCESSORS = [
    add_request_id,
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    TIMESTAMPER,
]


class StdoutHandler(logging.StreamHandler):
    """Writes to sys.stdout as it is at each record, even after something swapped it."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _):
        pass

    def handleError(self, record: logging.LogRecord) -> None:
        # logging never raises, but reports failures as tracebacks on stderr: JSON here.
        with suppress(Exception):  # stdout itself failing: nowhere left to say so
            write_line(
                {
                    "event": "log_record_failed",
                    "level": "error",
                    "logger": record.name,
                    "record": str(record.msg)[:200],
                    "error": repr(sys.exc_info()[1]),
                }
            )


def json_handler() -> logging.Handler:
    handler = StdoutHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            # Records from plain logging (gunicorn, werkzeug) keep their `extra` fields.
            foreign_pre_chain=[*SHARED_PROCESSORS, structlog.stdlib.ExtraAdder()],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    return handler


def configure_logging(level: str = "INFO") -> None:
    structlog.configure(
        processors=[
            *SHARED_PROCESSORS,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    root.handlers = [json_handler()]
    root.setLevel(level)


class GunicornLogger(GunicornBaseLogger):
    """gunicorn's error and access logs as JSON lines on stdout."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        self.error_log.handlers = [json_handler()]

    def access(self, resp, req, environ, request_time) -> None:
        if not self.cfg.accesslog:
            return
        try:
            line = access_line(resp, environ, request_time)
            if HELD and threading.get_ident() in HELD:  # see held_access
                HELD[threading.get_ident()] = line
            else:
                write_line(line)
        except Exception:
            # No log line is worth a worker: report it and serve on.
            self.error_log.exception("access_log_failed")


# The access lines held back, by thread (held_access). Empty but while gunicorn writes
# an error answer of its own: the other requests pay one look.
HELD: dict[int, dict | None] = {}


@contextmanager
def held_access():
    """The access line logged meanwhile on this thread waits, to be written on leaving
    with the fields put in the dict yielded: gunicorn logs its own error answer before
    writing it (server.Worker.handle_error fills in what was sent)."""
    thread = threading.get_ident()
    HELD[thread] = None
    sent = {}
    try:
        yield sent
    finally:
        line = HELD.pop(thread)
        if line is not None:
            try:
                write_line({**line, **sent})
            except Exception:
                logging.getLogger("gunicorn.error").exception("access_log_failed")


def access_line(resp, environ, request_time) -> dict:
    """The access log's fields, from what gunicorn has on both of its paths: the app's
    answer, and the error page it writes itself (Worker.handle_error), which has only
    `status`, such as "400 Bad Request", no headers, and no PATH_INFO."""
    method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
    if path is None or method == "CONNECT":
        # The target as sent, less its query as PATH_INFO is: CONNECT's is host:port,
        # which gunicorn reads as a URL of scheme "host" and path "443".
        path = environ.get("RAW_URI", "").partition("?")[0] or None
    return {
        "event": "request",
        "level": "info",
        "logger": "gunicorn.access",
        "method": method,
        "path": path,
        "status": int(str(resp.status).split(None, 1)[0]),
        "bytes": getattr(resp, "sent", None),
        "duration_ms": round(request_time.total_seconds() * 1000, 3),
        # Last of the app's headers (server.Response): found at once from the end.
        "request_id": next(
            (v for name, v in reversed(resp.headers) if name == "X-Request-ID"), None
        ),
        "remote_addr": environ.get("REMOTE_ADDR"),
        "timestamp": utc_now(),
    }


_second = (0, "")  # (a second since the epoch, its ISO 8601 text)


def utc_now() -> str:
    """The time as TIMESTAMPER writes it, in a quarter of the time: a second's text is
    made once."""
    global _second
    now = time.time()
    second = int(now)
    if second != _second[0]:
        _second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{_second[1]}.{int((now - second) * 1e6):06d}Z"


def write_line(line: dict) -> None:
    # Rendered and written here: logging and structlog would cost more than the request.
    # One write per line, as the handler does, so that lines never mix.
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
