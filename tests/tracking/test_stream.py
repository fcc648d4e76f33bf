"""GET /api/deliveries/{id}/stream through Django's test client, on the real (embedded or CI)
Redis: the events' format, resuming, the per-process cap and the end of a stream."""

from __future__ import annotations

from itertools import islice

import pytest
from django.test import override_settings

from fabrikam.apps.deliveries.watchers import SLOTS
from tests.deliveries.factories import ConfirmationFactory, FlightUpdateFactory, minutes_from_now
from tests.tracking.sse import events

# django_db: closing a response ends Django's request, which checks the database connection
# (close_old_connections); the stream itself reads only Redis.
pytestmark = [pytest.mark.redis, pytest.mark.django_db]


def stream(client, delivery_id: str, **headers):
    return client.get(f"/api/deliveries/{delivery_id}/stream", **headers)


def track(api, delivery_id: str, **fields) -> dict:
    update = FlightUpdateFactory(**fields)
    assert api.post(f"/api/deliveries/{delivery_id}/tracking", update, format="json").status_code
    return update


def test_a_stream_opens_with_the_events_so_far_then_the_status(client, api, create):
    delivery_id, body = create()
    update = track(api, delivery_id, stage="HeadedToPickup", timestamp=minutes_from_now(1))

    response = stream(client, delivery_id)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    retry, created, headed, status = islice(events(response.streaming_content), 4)
    response.close()
    assert retry.retry == 2000
    assert (created.event, created.id, created.json()["stage"]) == ("tracking", "0", "Created")
    assert created.json()["location"] == body["pickup"]
    assert (headed.event, headed.id, headed.json()["stage"]) == ("tracking", "1", "HeadedToPickup")
    assert status.event == "status"
    assert status.id is None  # a status does not move the resume point
    assert status.json()["stage"] == "HeadedToPickup"
    assert status.json()["lastKnownLocation"] == update["location"]
    assert set(status.json()) == {
        "stage",
        "lastKnownLocation",
        "pickupETA",
        "deliveryETA",
        "reason",
    }


def test_changes_after_the_stream_opened_arrive_as_they_happen(client, api, create):
    delivery_id, _ = create()
    response = stream(client, delivery_id)
    received = events(response.streaming_content)
    list(islice(received, 3))  # retry, Created, status

    moved = track(api, delivery_id, stage="HeadedToPickup", timestamp=minutes_from_now(1))
    headed, status = islice(received, 2)
    further = track(api, delivery_id, stage="HeadedToPickup", timestamp=minutes_from_now(2))
    (position,) = islice(received, 1)
    response.close()

    assert (headed.event, headed.id) == ("tracking", "1")
    assert status.json()["lastKnownLocation"] == moved["location"]
    assert position.event == "status"  # same stage: a new position, no new event
    assert position.json()["lastKnownLocation"] == further["location"]


def test_last_event_id_resumes_after_that_event(client, api, create):
    delivery_id, _ = create()
    track(api, delivery_id, stage="HeadedToPickup", timestamp=minutes_from_now(1))
    track(api, delivery_id, stage="HeadedToDropoff", timestamp=minutes_from_now(2))

    response = stream(client, delivery_id, HTTP_LAST_EVENT_ID="1")
    _, first, status = islice(events(response.streaming_content), 3)
    response.close()

    assert (first.id, first.json()["stage"]) == ("2", "HeadedToDropoff")
    assert status.event == "status"


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "+5", "5_0", "\u0663"])
def test_a_malformed_last_event_id_is_a_problem_naming_it(client, create, value):
    delivery_id, _ = create()

    response = stream(client, delivery_id, HTTP_LAST_EVENT_ID=value)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "Last-Event-ID" in response.json()["errors"]
    assert SLOTS.in_use == 0


def test_an_unknown_delivery_is_a_404_problem_even_for_an_event_source(client, redis_store):
    response = stream(client, "no-such-delivery", HTTP_ACCEPT="text/event-stream")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Delivery not found"


def test_the_stream_ends_when_the_delivery_is_completed(client, api, create):
    delivery_id, _ = create()
    track(api, delivery_id, stage="HeadedToDropoff", timestamp=minutes_from_now(1))
    response = stream(client, delivery_id)
    received = events(response.streaming_content)
    list(islice(received, 4))  # retry, Created, HeadedToDropoff, status

    track(api, delivery_id, stage="Completed", timestamp=minutes_from_now(2))
    rest = list(received)  # ends by itself
    response.close()

    assert [(e.event, e.id) for e in rest] == [("tracking", "2"), ("status", None), ("end", None)]
    assert rest[1].json()["stage"] == "Completed"
    assert rest[2].json() == {"stage": "Completed"}
    assert SLOTS.in_use == 0


def test_the_stream_of_a_confirmed_delivery_ends_after_its_history(client, api, create):
    delivery_id, _ = create()
    confirmed = api.post(
        f"/api/deliveries/{delivery_id}/confirmations", ConfirmationFactory(), format="json"
    )
    assert confirmed.status_code == 200

    response = stream(client, delivery_id)
    received = list(events(response.streaming_content))
    response.close()

    assert [e.event for e in received] == ["message", "tracking", "tracking", "status", "end"]
    assert received[-1].json() == {"stage": "Completed"}


def test_the_stream_ends_when_the_delivery_is_cancelled(client, api, create):
    delivery_id, _ = create()
    response = stream(client, delivery_id)
    received = events(response.streaming_content)
    list(islice(received, 3))

    assert api.delete(f"/api/deliveries/{delivery_id}").status_code == 200
    rest = list(received)
    response.close()

    assert [e.event for e in rest] == ["tracking", "status", "end"]
    assert rest[-1].json() == {"stage": "Cancelled"}


@override_settings(TRACKING_KEEPALIVE_SECONDS=0.05, TRACKING_STREAM_MAX_SECONDS=0.5)
def test_a_quiet_stream_sends_keep_alives_and_ends_at_its_time_limit(client, create):
    delivery_id, _ = create()

    response = stream(client, delivery_id)
    received = list(events(response.streaming_content))  # ends after 0.5 s
    response.close()

    comments = [e.comment for e in received if e.comment]
    assert comments.count("keep-alive") >= 2
    assert comments[-1] == "stream time limit reached; reconnect to resume"
    assert [e.event for e in received if not e.comment] == ["message", "tracking", "status"]


@override_settings(TRACKING_MAX_STREAMS=2, TRACKING_RETRY_AFTER_SECONDS=7)
def test_streams_beyond_the_cap_are_refused_with_retry_after(client, create):
    delivery_id, _ = create()
    first, second = stream(client, delivery_id), stream(client, delivery_id)

    refused = stream(client, delivery_id, HTTP_ACCEPT="text/event-stream")

    assert (first.status_code, second.status_code) == (200, 200)
    assert refused.status_code == 503
    assert refused["Retry-After"] == "7"
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["title"] == "Too many live tracking streams"
    assert f"/api/deliveries/{delivery_id}/status" in refused.json()["detail"]

    first.close()  # a watcher leaves: its slot is free again
    again = stream(client, delivery_id)
    assert again.status_code == 200
    again.close()
    second.close()
    assert SLOTS.in_use == 0
