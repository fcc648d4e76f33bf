"""Log lines: JSON for operators, plain for a developer's terminal; both name the trace."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from opentelemetry.sdk.trace import TracerProvider

from fabrikam.observability.logs import JsonFormatter, PlainFormatter


@pytest.fixture
def tracer():
    return TracerProvider().get_tracer("test")


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("fabrikam.test", logging.WARNING, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


def test_a_json_line_inside_a_span_carries_its_trace_and_span_ids(tracer):
    with tracer.start_as_current_span("request") as span:
        line = json.loads(JsonFormatter().format(record("drone %s late", "d-7")))
    context = span.get_span_context()
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")
    assert line["message"] == "drone d-7 late"
    assert line["level"] == "WARNING"
    assert line["logger"] == "fabrikam.test"
    assert line["time"].endswith("+00:00")


def test_a_json_line_outside_any_span_has_no_trace_ids():
    line = json.loads(JsonFormatter().format(record("starting")))
    assert "trace_id" not in line
    assert "span_id" not in line


def test_extra_fields_and_exceptions_become_json_fields():
    try:
        raise ValueError("bad coordinates")
    except ValueError:
        failed = logging.LogRecord(
            "fabrikam.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    failed.http_status = 500
    failed.payload = {"not": "a string"}
    line = json.loads(JsonFormatter().format(failed))
    assert line["http_status"] == 500
    assert line["payload"] == {"not": "a string"}
    assert "ValueError: bad coordinates" in line["exception"]


def test_a_plain_line_names_the_trace_only_inside_a_span(tracer):
    outside = PlainFormatter().format(record("starting"))
    assert "trace=" not in outside
    with tracer.start_as_current_span("request") as span:
        inside = PlainFormatter().format(record("scheduled"))
    assert inside.endswith(f"scheduled trace={format(span.get_span_context().trace_id, '032x')}")
