"""The stream as a browser gets it: the delivery role under gunicorn (the project's asyncio
worker, fabrikam.server.gunicorn_worker), read over HTTP by an SSE client while the delivery
changes."""

from __future__ import annotations

from itertools import islice

import pytest
import requests

from tests.deliveries.factories import DeliveryBodyFactory, FlightUpdateFactory, delivery_id
from tests.deliveries.factories import minutes_from_now as later
from tests.support import auth
from tests.support.live import free_port
from tests.tracking.sse import events

pytestmark = [pytest.mark.e2e, pytest.mark.redis]


@pytest.fixture
def delivery_service(live) -> str:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    live.start(
        "delivery",
        ["serve", "--role", "delivery", "--port", str(port)],
        {"TRACKING_MAX_STREAMS": "1", "TRACKING_RETRY_AFTER_SECONDS": "9", "GUNICORN_WORKERS": "1"},
    )
    live.wait_ready(base)
    return base


def open_stream(base: str, new_id: str) -> requests.Response:
    return requests.get(
        f"{base}/api/deliveries/{new_id}/stream",
        headers={**auth.headers(), "Accept": "text/event-stream"},
        stream=True,
        timeout=10,
    )


def post_update(base: str, new_id: str, **fields) -> dict:
    update = FlightUpdateFactory(**fields)
    response = requests.post(
        f"{base}/api/deliveries/{new_id}/tracking", json=update, timeout=5, headers=auth.headers()
    )
    assert response.status_code == 204, response.text
    return update


def test_a_browser_style_client_follows_a_delivery_to_its_end(delivery_service):
    base, new_id = delivery_service, delivery_id()
    created = requests.put(
        f"{base}/api/deliveries/{new_id}",
        json=DeliveryBodyFactory(),
        timeout=5,
        headers=auth.headers(),
    )
    assert created.status_code == 201, created.text

    watching = open_stream(base, new_id)
    assert watching.status_code == 200
    assert watching.headers["Content-Type"] == "text/event-stream"
    received = events(watching.iter_content(chunk_size=None))
    retry, first, status = islice(received, 3)
    assert retry.retry == 2000
    assert (first.event, first.id, first.json()["stage"]) == ("tracking", "0", "Created")
    assert (status.event, status.json()["stage"]) == ("status", "Created")

    # The one slot of this process is taken: a second watcher polls instead, and the API and the
    # probes still answer (a stream holds one of the worker's threads, not the worker).
    refused = open_stream(base, new_id)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "9"
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert (
        requests.get(
            f"{base}/api/deliveries/{new_id}/status", timeout=5, headers=auth.headers()
        ).status_code
        == 200
    )
    assert requests.get(f"{base}/healthz/ready", timeout=5).status_code == 200

    moved = post_update(base, new_id, stage="HeadedToPickup", timestamp=later(1))
    headed, where = islice(received, 2)
    assert (headed.event, headed.id, headed.json()["stage"]) == ("tracking", "1", "HeadedToPickup")
    assert where.json()["lastKnownLocation"] == moved["location"]

    post_update(base, new_id, stage="Completed", timestamp=later(2))
    rest = list(received)  # the server ends the stream
    assert [(e.event, e.id) for e in rest] == [("tracking", "2"), ("status", None), ("end", None)]
    assert rest[-1].json() == {"stage": "Completed"}

    again = open_stream(base, new_id)  # the slot is free again
    assert again.status_code == 200
    assert [e.event for e in events(again.iter_content(chunk_size=None))][-1] == "end"
