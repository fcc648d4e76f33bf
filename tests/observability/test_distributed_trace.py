"""One delivery request, one trace: ingestion → queue → workflow → the three services, each hop a
child of the one before, exported by real processes over OTLP."""

from __future__ import annotations

import pytest

from tests.observability.otlp_receiver import Span
from tests.support.live import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

TASK = "workflow.handle_delivery_request"
DOWNSTREAM = {
    "fabrikam-package": "/api/packages/",
    "fabrikam-dronescheduler": "/api/dronedeliveries/",
    "fabrikam-delivery": "/api/deliveries/",
}


def _one(spans: list[Span], what: str, **match: str) -> Span:
    found = [s for s in spans if all(getattr(s, k) == v for k, v in match.items())]
    assert len(found) == 1, f"expected one {what}, got {len(found)}: {[s.name for s in found]}"
    return found[0]


def _url(span: Span) -> str:
    return str(span.attribute("url.full", "http.url") or "")


def test_one_post_is_one_trace_from_ingestion_through_the_queue_to_every_service(traced_system):
    delivery_id = traced_system.request_delivery("pkg-traced-1")
    delivery = wait_until(
        lambda: traced_system.delivery(delivery_id), 30, f"delivery {delivery_id} scheduled"
    )
    receiver = traced_system.receiver

    def ingestion_span() -> Span | None:
        return next(
            (
                s
                for s in receiver.spans
                if s.service == "fabrikam-ingestion"
                and s.kind == "server"
                and s.attribute("http.method", "http.request.method") == "POST"
            ),
            None,
        )

    root = wait_until(ingestion_span, 15, "the ingestion request's span")

    def whole_trace() -> list[Span] | None:
        spans = receiver.trace(root.trace_id)
        servers = {s.service for s in spans if s.kind == "server"}
        # The task's span ends last, after its HTTP calls: wait for it too.
        run_ended = any(s.kind == "consumer" for s in spans)
        return spans if set(DOWNSTREAM) <= servers and run_ended else None

    spans = wait_until(whole_trace, 15, "spans of every service in the request's trace")

    assert root.parent_id == "", "the POST starts the trace"
    assert root.attribute("http.route") == "api/deliveryrequests"
    assert root.resource["service.version"]
    assert root.resource["service.instance.id"]
    publish = _one(spans, "publish span", kind="producer", service="fabrikam-ingestion")
    assert publish.name == f"apply_async/{TASK}"
    assert publish.parent_id == root.span_id
    run = _one(spans, "task run span", kind="consumer", service="fabrikam-workflow")
    assert run.name == f"run/{TASK}"
    assert run.parent_id == publish.span_id, "the workflow continues the request's trace"

    for service, path in DOWNSTREAM.items():
        calls = [
            s
            for s in spans
            if s.kind == "client"
            and s.service == "fabrikam-workflow"
            and path in _url(s)
            and s.attribute("http.method", "http.request.method") == "PUT"
        ]
        assert len(calls) == 1, f"one PUT to {service}: {[_url(s) for s in calls]}"
        assert calls[0].parent_id == run.span_id
        server = _one(spans, f"{service} server span", kind="server", service=service)
        assert server.parent_id == calls[0].span_id
        assert server.attribute("http.route", "http.target").startswith(path.lstrip("/"))

    assert delivery["droneId"]
    assert {s.trace_id for s in spans} == {root.trace_id}
    wait_until(lambda: receiver.metric_requests, 10, "metrics pushed over OTLP")
