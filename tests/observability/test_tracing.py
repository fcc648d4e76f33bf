"""Tracing in one process: which traces are kept, and the W3C trace context a published message
carries in its headers (read back raw from the real broker)."""

from __future__ import annotations

import uuid

import pytest
from kombu import Queue
from opentelemetry import trace
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from fabrikam.apps.ingestion.publisher import publish
from fabrikam.celery import app
from fabrikam.contract.messages import TASK_NAME
from fabrikam.observability import telemetry


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def provider(exporter: InMemorySpanExporter, ratio: float = 1.0) -> TracerProvider:
    traced = TracerProvider(sampler=telemetry.sampler(ratio))
    traced.add_span_processor(SimpleSpanProcessor(exporter))
    return traced


def test_requests_and_tasks_start_traces_but_lone_client_calls_do_not(exporter):
    tracer = provider(exporter).get_tracer("test")
    with (
        tracer.start_as_current_span("GET /api/drones", kind=trace.SpanKind.SERVER),
        tracer.start_as_current_span("SELECT", kind=trace.SpanKind.CLIENT),
    ):
        pass
    with tracer.start_as_current_span("BRPOP", kind=trace.SpanKind.CLIENT):  # worker polling
        pass
    with tracer.start_as_current_span("run/task", kind=trace.SpanKind.CONSUMER):
        pass
    assert sorted(s.name for s in exporter.get_finished_spans()) == [
        "GET /api/drones",
        "SELECT",
        "run/task",
    ]


def test_the_ratio_samples_new_traces_and_a_sampled_caller_is_always_followed(exporter):
    tracer = provider(exporter, ratio=0.0).get_tracer("test")
    with tracer.start_as_current_span("new request", kind=trace.SpanKind.SERVER):
        pass
    assert exporter.get_finished_spans() == ()

    caller = trace.SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0xB7AD6B7169203331,
        is_remote=True,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
    )
    parent = trace.set_span_in_context(trace.NonRecordingSpan(caller))
    with tracer.start_as_current_span("continued", context=parent, kind=trace.SpanKind.SERVER):
        pass
    (continued,) = exporter.get_finished_spans()
    assert continued.context.trace_id == caller.trace_id


@pytest.fixture
def traced_publisher(exporter, settings):
    """The ingestion publisher with Celery instrumented, on a queue of this test's own."""
    settings.CELERY_TASK_DEFAULT_QUEUE = f"traced-{uuid.uuid4().hex[:8]}"
    settings.DELIVERY_REQUESTS_QUEUE = settings.CELERY_TASK_DEFAULT_QUEUE
    instrumentor = CeleryInstrumentor()
    instrumentor.instrument(tracer_provider=provider(exporter))
    yield settings.CELERY_TASK_DEFAULT_QUEUE
    instrumentor.uninstrument()
    with app.connection_for_write() as connection:
        Queue(settings.CELERY_TASK_DEFAULT_QUEUE)(connection.default_channel).delete()


@pytest.mark.redis
def test_a_published_message_carries_traceparent_in_its_headers(exporter, traced_publisher):
    tracer = provider(exporter).get_tracer("test")
    with tracer.start_as_current_span("POST /api/deliveryrequests") as request:
        publish({"operation": "cancel", "deliveryId": "d-1"}, "d-1:cancel:1", {})
        assert trace.get_current_span() is request, "the publish span is closed again"

    with app.connection_for_read() as connection:
        message = Queue(traced_publisher)(connection.default_channel).get(no_ack=True)
    assert message is not None, "the message is on the broker"
    published = next(s for s in exporter.get_finished_spans() if s.kind is trace.SpanKind.PRODUCER)
    assert published.name == f"apply_async/{TASK_NAME}"
    assert published.parent.span_id == request.get_span_context().span_id
    trace_id = format(request.get_span_context().trace_id, "032x")
    span_id = format(published.context.span_id, "016x")
    version, sent_trace, sent_parent, flags = message.headers["traceparent"].split("-")
    assert (version, sent_trace, sent_parent) == ("00", trace_id, span_id)
    assert int(flags, 16) & 1, "sampled"
    assert message.headers["id"] == "d-1:cancel:1"
