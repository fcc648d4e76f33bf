"""Log lines for operators: one JSON object per line with the trace and span ids of the request
or task that wrote it (LOG_FORMAT=json), or a plain line for a developer's terminal (plain).

Every process of every role uses `logging_config()`: Django's LOGGING, the gunicorn master's
`logconfig_dict` and Celery's `setup_logging` signal all point here.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

FORMATS = ("json", "plain")

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged too.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def trace_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the span active in this thread, in W3C hex, or None."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def _service() -> str:
    from fabrikam.observability import telemetry

    return telemetry.service_name()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": _service(),
            "pid": record.process,
        }
        ids = trace_ids()
        if ids:
            line["trace_id"], line["span_id"] = ids
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """`time LEVEL logger message`, with ` trace=<id>` when a span is active."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = trace_ids()
        if ids is None:
            return text
        first, newline, rest = text.partition("\n")
        return f"{first} trace={ids[0]}{newline}{rest}"


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` dict: everything to stderr in `log_format`."""
    formatter = (
        "fabrikam.observability.logs.JsonFormatter"
        if log_format == "json"
        else "fabrikam.observability.logs.PlainFormatter"
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"()": formatter}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "line"},
            "discard": {"class": "logging.NullHandler"},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's and gunicorn's loggers write through the root handler only (Django's
            # default adds a console handler of its own with DEBUG: every line twice).
            "django": {"handlers": [], "propagate": True, "level": level},
            "django.server": {"handlers": [], "propagate": True, "level": level},
            "django.db.backends": {"level": "WARNING"},
            "azure": {"level": "WARNING"},  # the Azure Monitor exporter logs each upload at INFO
            "gunicorn.error": {"handlers": [], "propagate": True, "level": level},
            # RequestLogMiddleware logs each request with its route and trace id instead.
            "gunicorn.access": {"handlers": ["discard"], "propagate": False},
        },
    }
