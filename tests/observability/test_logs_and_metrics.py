"""What operators read off the running system: JSON log lines that carry the trace id of the request
that produced them, and /metrics whose counters move (summed over every process of a role)."""

from __future__ import annotations

import json
import secrets

import pytest
import requests
from celery import Celery

from tests.support import auth
from tests.support.live import wait_until
from tests.support.prometheus import sample

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

TASK = "workflow.handle_delivery_request"


def is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def test_every_log_line_is_json_and_carries_the_trace_id_of_its_request(traced_system):
    trace_id = secrets.token_hex(16)
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
    delivery_id = traced_system.request_delivery("pkg-logged-1", {"traceparent": traceparent})
    wait_until(lambda: traced_system.delivery(delivery_id), 30, f"delivery {delivery_id}")

    def request_line(process: str, method: str, path: str) -> dict | None:
        for line in traced_system.json_logs(process):
            if line.get("http_method") == method and line.get("http_path") == path:
                return line
        return None

    accepted = wait_until(
        lambda: request_line("ingestion", "POST", "/api/deliveryrequests"), 10, "request log"
    )
    assert accepted["trace_id"] == trace_id
    assert accepted["http_status"] == 202
    assert accepted["http_route"] == "/api/deliveryrequests"
    assert accepted["duration_ms"] > 0
    assert accepted["service"] == "fabrikam-ingestion"
    assert accepted["level"] == "INFO"

    stored = wait_until(
        lambda: request_line("delivery", "PUT", f"/api/deliveries/{delivery_id}"),
        10,
        "the delivery service's log of the workflow's PUT",
    )
    assert stored["trace_id"] == trace_id
    assert stored["http_route"] == "/api/deliveries/<id:delivery_id>"

    def task_lines() -> list[dict]:
        return [
            line
            for line in traced_system.json_logs("workflow")
            if line.get("trace_id") == trace_id and delivery_id in line["message"]
        ]

    assert wait_until(task_lines, 10, "the worker's log lines for the delivery")
    for process in traced_system.live.processes:
        for line in traced_system.log_lines(process.name):
            assert is_json_object(line), f"{process.name} wrote a line that is not JSON: {line}"


def test_metrics_count_saga_outcomes_requests_and_drones(traced_system):
    worker = "workflow"
    completed = {"operation": "delivery", "outcome": "completed"}
    dead_lettered = {"operation": "unknown", "outcome": "dead-lettered"}
    before = traced_system.metrics(worker)

    ids = [traced_system.request_delivery(f"pkg-counted-{n}") for n in range(2)]
    for delivery_id in ids:
        wait_until(lambda d=delivery_id: traced_system.delivery(d), 30, f"delivery {delivery_id}")
    queue = traced_system.live.env["DELIVERY_REQUESTS_QUEUE"]
    publisher = Celery(broker=traced_system.live.env["CELERY_BROKER_URL"])
    publisher.send_task(TASK, args=[{"operation": "fly-to-the-moon"}], queue=queue)

    def saga_counts() -> tuple[float, float] | None:
        text = traced_system.metrics(worker)
        counts = (  # polled: not counted yet reads as 0 until it is
            sample(text, "fabrikam_saga_outcomes_total", absent=0.0, **completed),
            sample(text, "fabrikam_saga_outcomes_total", absent=0.0, **dead_lettered),
        )
        expected = (
            sample(before, "fabrikam_saga_outcomes_total", absent=0.0, **completed) + 2,
            sample(before, "fabrikam_saga_outcomes_total", absent=0.0, **dead_lettered) + 1,
        )
        return counts if counts == expected else None

    wait_until(saga_counts, 20, "the saga outcome counters to move")
    after = traced_system.metrics(worker)
    assert sample(after, "fabrikam_queue_messages", queue=queue) == 0
    assert sample(after, "fabrikam_saga_outcomes_total", **completed) >= 2
    assert sample(after, "fabrikam_queue_messages", queue=f"{queue}-deadletter") == 1

    ingestion = traced_system.metrics("ingestion")
    posts = {"role": "ingestion", "method": "POST", "route": "/api/deliveryrequests"}
    count = "fabrikam_http_request_duration_seconds_count"
    assert sample(ingestion, count, status="202", **posts) == 2
    fleet = traced_system.metrics("dronescheduler")
    assert sample(fleet, "fabrikam_drones", status="assigned") == 2
    assert sample(fleet, "fabrikam_drones", status="available") == 8


def test_metrics_add_up_the_requests_of_every_gunicorn_worker(traced_system):
    """Two gunicorn workers serve the delivery role; whichever answers the scrape reports both."""
    base = traced_system.urls["delivery"]
    sent = 0

    def served_by_two_workers() -> bool:
        nonlocal sent
        requests.get(f"{base}/api/deliveries/nobody-{sent}", timeout=5, headers=auth.headers())
        sent += 1
        pids = {
            line["pid"]
            for line in traced_system.json_logs("delivery")
            if line.get("http_path", "").startswith("/api/deliveries/nobody-")
        }
        return len(pids) >= 2

    wait_until(served_by_two_workers, 30, "requests served by both gunicorn workers", 0.01)
    labels = {"role": "delivery", "method": "GET", "route": "/api/deliveries/<id:delivery_id>"}
    for _ in range(4):  # every scrape, from either worker, gives the total
        text = traced_system.metrics("delivery")
        assert (
            sample(text, "fabrikam_http_request_duration_seconds_count", status="404", **labels)
            == sent
        )
