"""What a 202 puts on the configured broker (the embedded Redis, or RabbitMQ in CI), read back
with kombu as the workflow would receive it."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from fabrikam.contract.messages import TASK_NAME
from tests.ingestion import broker
from tests.ingestion.factories import DeliveryRequestFactory, RescheduleFactory
from tests.ingestion.test_validation import assert_problem

# Every POST here once through the fast validation path and once through the serializer alone.
pytestmark = pytest.mark.usefixtures("validation_path", "through_the_bridge")

URL = "/api/deliveryrequests"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def test_an_accepted_request_echoes_it_with_its_delivery_id_and_location(api, received):
    body = DeliveryRequestFactory(packageInfo__packageId="pkg-42")

    response = api.post(URL, body, format="json")

    assert response.status_code == 202, response.content
    accepted = response.json()
    delivery_id = accepted.pop("deliveryId")
    assert re.fullmatch(r"[0-9a-f]{32}", delivery_id)
    assert response["Location"] == f"/api/deliveries/{delivery_id}"
    assert accepted == {
        "ownerId": "contoso",
        "pickupLocation": {"latitude": 47.6097, "longitude": -122.3331, "altitude": 0.0},
        "dropOffLocation": {"latitude": 47.6205, "longitude": -122.3493, "altitude": 0.0},
        "pickupTime": "2026-12-01T10:00:00Z",
        "deadline": "2026-12-01T12:00:00Z",
        "expedited": False,
        "confirmationRequired": "None",
        "packageInfo": {"packageId": "pkg-42", "size": "Small", "weight": 1.5, "tag": "books"},
    }
    assert len(received()) == 1


def test_the_queued_message_has_the_contract_body_and_headers(api, received, settings):
    body = DeliveryRequestFactory(
        packageInfo__packageId="pkg-7", confirmationRequired="fingerprint", expedited=True
    )
    response = api.post(
        URL,
        body,
        format="json",
        headers={"traceparent": TRACEPARENT, "tracestate": "fabrikam=1"},
    )
    delivery_id = response.json()["deliveryId"]

    [message] = received()

    assert message.body == {
        "operation": "delivery",
        "deliveryId": delivery_id,
        "ownerId": "contoso",
        "pickup": {"latitude": 47.6097, "longitude": -122.3331, "altitude": 0.0},
        "dropoff": {"latitude": 47.6205, "longitude": -122.3493, "altitude": 0.0},
        "pickupTime": "2026-12-01T10:00:00Z",
        "deadline": "2026-12-01T12:00:00Z",
        "expedited": True,
        "confirmationRequired": "FingerPrint",
        "packageInfo": {"packageId": "pkg-7", "size": "Small", "weight": 1.5, "tag": "books"},
    }
    message_id = f"{delivery_id}:delivery:1"
    assert message.headers["task"] == TASK_NAME
    assert message.headers["id"] == message_id
    assert message.properties["correlation_id"] == message_id
    assert message.headers["argsrepr"] == f"[{message_id}]"  # worker logs carry no owner data
    trace, parent = message.headers["traceparent"].split("-")[1:3]
    assert trace == TRACE_ID
    assert parent != "00f067aa0ba902b7"  # the publish is a new span of the caller's trace
    assert message.headers["tracestate"] == "fabrikam=1"
    if settings.BROKER_KIND == "amqp":
        assert message.properties["message_id"] == message_id
        assert message.properties["delivery_mode"] == 2  # persistent


def test_a_request_without_a_trace_starts_one(api, received):
    api.post(URL, DeliveryRequestFactory(), format="json")
    [message] = received()
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", message.headers["traceparent"])
    assert "tracestate" not in message.headers


def test_a_delivery_id_in_the_body_is_ignored(api, received):
    response = api.post(URL, DeliveryRequestFactory(deliveryId="mine"), format="json")
    assert response.json()["deliveryId"] != "mine"
    [message] = received()
    assert message.body["deliveryId"] == response.json()["deliveryId"]


def test_defaults_and_case_insensitive_values_are_normalized(api, received):
    body = DeliveryRequestFactory(packageInfo__size="LARGE", deadline="")
    del body["expedited"], body["confirmationRequired"], body["packageInfo"]["tag"]

    response = api.post(URL, body, format="json")

    assert response.status_code == 202, response.content
    [message] = received()
    assert message.body["expedited"] is False
    assert message.body["confirmationRequired"] == "None"
    assert message.body["deadline"] is None
    assert message.body["packageInfo"]["size"] == "Large"
    assert message.body["packageInfo"]["tag"] == ""


def test_json_with_a_charset_is_accepted(api, received):
    response = api.generic(
        "POST",
        URL,
        DeliveryRequestFactory.build().__repr__().replace("'", '"').replace("False", "false"),
        content_type="application/json; charset=utf-8",
    )
    assert response.status_code == 202, response.content
    assert len(received()) == 1


def test_a_reschedule_is_queued_with_only_the_changed_fields(api, received):
    delivery = "3f2b8c0e1d4a4b6c9e7f0a1b2c3d4e5f"
    first = api.patch(f"{URL}/{delivery}", RescheduleFactory(), format="json")
    second = api.patch(f"{URL}/{delivery}", {"dropOffLocation": "47.61,-122.34"}, format="json")

    assert first.status_code == second.status_code == 202
    assert first.json() == {"deliveryId": delivery, "operation": "reschedule"}
    assert first["Location"] == f"/api/deliveries/{delivery}"
    one, two = received()
    assert one.body == {
        "operation": "reschedule",
        "deliveryId": delivery,
        "pickupTime": "2026-12-02T10:00:00Z",
        "deadline": "2026-12-02T12:00:00Z",
    }
    assert two.body == {
        "operation": "reschedule",
        "deliveryId": delivery,
        "dropoff": {"latitude": 47.61, "longitude": -122.34, "altitude": 0.0},
    }
    assert [one.headers["id"], two.headers["id"]] == [
        f"{delivery}:reschedule:1",
        f"{delivery}:reschedule:2",
    ]


def test_a_cancel_is_queued(api, received):
    delivery = "3f2b8c0e1d4a4b6c9e7f0a1b2c3d4e5f"
    response = api.delete(f"{URL}/{delivery}")
    assert response.status_code == 202
    assert response.json() == {"deliveryId": delivery, "operation": "cancel"}
    [message] = received()
    assert message.body == {"operation": "cancel", "deliveryId": delivery}
    assert message.headers["id"] == f"{delivery}:cancel:1"


def test_a_reschedule_after_a_cancel_is_a_409_and_queues_nothing(api, received):
    delivery = "3f2b8c0e1d4a4b6c9e7f0a1b2c3d4e5f"
    assert api.delete(f"{URL}/{delivery}").status_code == 202

    response = api.patch(f"{URL}/{delivery}", RescheduleFactory(), format="json")

    assert response.status_code == 409
    assert response.json()["type"].endswith("/delivery-being-cancelled")
    assert [message.body["operation"] for message in received()] == ["cancel"]
    assert api.delete(f"{URL}/{delivery}").status_code == 202  # a cancel stays idempotent


def test_the_dead_letter_queue_exists_beside_the_queue(api, received, queue, settings):
    dead_letters = f"{queue}-deadletter"
    assert not broker.accepts_messages_for(settings.CELERY_BROKER_URL, dead_letters)

    api.post(URL, DeliveryRequestFactory(), format="json")

    assert broker.accepts_messages_for(settings.CELERY_BROKER_URL, dead_letters)
    assert len(received()) == 1  # and nothing went there but the probe


# --- Idempotency-Key ---


def test_a_retry_with_the_same_key_and_body_gets_the_same_delivery_and_queues_nothing(
    api, received
):
    body = DeliveryRequestFactory()
    key = {"Idempotency-Key": "order-1001"}

    first = api.post(URL, body, format="json", headers=key)
    retry = api.post(URL, body, format="json", headers=key)

    assert first.status_code == retry.status_code == 202
    assert retry.json() == first.json()
    assert retry["Location"] == first["Location"]
    assert len(received()) == 1


def test_the_same_request_written_differently_is_the_same_request(api, received):
    key = {"Idempotency-Key": "order-1002"}
    as_strings = DeliveryRequestFactory(packageInfo__packageId="pkg-1002")
    as_objects = {
        **as_strings,
        "pickupLocation": {"latitude": 47.6097, "longitude": -122.3331, "altitude": 0},
        "packageInfo": {**as_strings["packageInfo"], "size": "small"},
        "deadline": "2026-12-01T12:00:00+00:00",
    }

    first = api.post(URL, as_strings, format="json", headers=key)
    retry = api.post(URL, as_objects, format="json", headers=key)

    assert retry.json()["deliveryId"] == first.json()["deliveryId"]
    assert len(received()) == 1


def test_the_same_key_with_another_body_is_a_422(api, received):
    key = {"Idempotency-Key": "order-1003"}
    first = api.post(URL, DeliveryRequestFactory(), format="json", headers=key)
    other = api.post(URL, DeliveryRequestFactory(ownerId="fabrikam"), format="json", headers=key)

    assert first.status_code == 202
    body = assert_problem(other, 422)
    assert body["type"].endswith("/idempotency-key-reused")
    assert "new key" in body["detail"]
    assert len(received()) == 1


def test_different_keys_are_different_requests(api, received):
    body = DeliveryRequestFactory()
    one = api.post(URL, body, format="json", headers={"Idempotency-Key": "a"})
    two = api.post(URL, body, format="json", headers={"Idempotency-Key": "b"})
    assert one.json()["deliveryId"] != two.json()["deliveryId"]
    assert len(received()) == 2


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_delivery_id_path_is_matched_case_insensitively(api, received, method):
    response = getattr(api, method)(
        "/api/DeliveryRequests/3f2b8c0e1d4a", RescheduleFactory(), format="json"
    )
    assert response.status_code == 202
    assert received()[0].body["deliveryId"] == "3f2b8c0e1d4a"


def test_a_new_delivery_stores_only_its_owner_in_the_ingestion_store(api, received, redis_store):
    # A fresh delivery id's one delivery message is always n = 1: no counter is kept for it.
    response = api.post(URL, DeliveryRequestFactory(), format="json")
    delivery_id = response.json()["deliveryId"]

    stored = {key.decode() for key in redis_store.keys("*:ingestion:*")}

    assert stored == {f"{settings.REDIS_KEY_PREFIX}:ingestion:owner:{delivery_id}"}
    assert redis_store.get(stored.pop()) == b"contoso"
    [message] = received()
    assert message.headers["id"] == f"{delivery_id}:delivery:1"
