"""Structured JSON logs on stdout, one object per line, for app and gunicorn."""

from __future__ import annotations

import logging
import sys

import structlog
from gunicorn.glogging import Logger as GunicornBaseLogger

SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


class StdoutHandler(logging.StreamHandler):
    """Writes to sys.stdout as it is at each record, even after something swapped it."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _):
        pass


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
    """gunicorn's error and access logs as JSON, through the app's handler."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            logger.handlers = [json_handler()]

    def access(self, resp, req, environ, request_time) -> None:
        if not self.cfg.accesslog:
            return
        headers = dict(resp.headers)
        self.access_log.info(
            "request",
            extra={
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),
                "status": resp.status_code,
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 3),
                "request_id": headers.get("X-Request-ID"),
                "remote_addr": environ.get("REMOTE_ADDR"),
            },
        )
