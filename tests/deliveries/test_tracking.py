"""The drone scheduler's flight updates drive the status: stage, last known location, ETAs."""

from __future__ import annotations

import pytest

from fabrikam.apps.deliveries import repository
from tests.deliveries.conftest import stages
from tests.deliveries.factories import (
    FlightUpdateFactory,
    LocationFactory,
    minutes_from_now,
    moment,
)

pytestmark = [pytest.mark.redis]


def post(api, delivery_id: str, update: dict):
    return api.post(f"/api/deliveries/{delivery_id}/tracking", update, format="json")


def status(api, delivery_id: str) -> dict:
    return api.get(f"/api/deliveries/{delivery_id}/status").json()


def test_status_follows_the_latest_flight_update(api, create):
    new_id, _ = create()
    update = FlightUpdateFactory(stage="HeadedToPickup", timestamp=minutes_from_now(1))

    assert post(api, new_id, update).status_code == 204

    now = status(api, new_id)
    assert now["stage"] == "HeadedToPickup"
    assert now["lastKnownLocation"] == update["location"]
    assert moment(now["pickupETA"]) == moment(update["pickupETA"])
    assert moment(now["deliveryETA"]) == moment(update["deliveryETA"])


def test_an_older_update_is_ignored(api, create):
    new_id, _ = create()
    newer = FlightUpdateFactory(stage="HeadedToDropoff", timestamp=minutes_from_now(5))
    older = FlightUpdateFactory(stage="HeadedToPickup", timestamp=minutes_from_now(2))
    post(api, new_id, newer)

    assert post(api, new_id, older).status_code == 204
    assert post(api, new_id, {**newer, "location": LocationFactory()}).status_code == 204  # replay

    assert status(api, new_id)["lastKnownLocation"] == newer["location"]
    assert status(api, new_id)["stage"] == "HeadedToDropoff"
    assert stages(api, new_id) == ["Created", "HeadedToDropoff"]


def test_position_updates_within_a_stage_record_no_event(api, create):
    new_id, _ = create()
    last = None
    for minute in (1, 2, 3):
        last = FlightUpdateFactory(stage="HeadedToPickup", timestamp=minutes_from_now(minute))
        post(api, new_id, last)

    assert status(api, new_id)["lastKnownLocation"] == last["location"]
    assert stages(api, new_id) == ["Created", "HeadedToPickup"]


def test_updates_after_cancel_change_nothing(api, create):
    new_id, body = create()
    api.delete(f"/api/deliveries/{new_id}")

    response = post(api, new_id, FlightUpdateFactory(timestamp=minutes_from_now(1)))

    assert response.status_code == 204
    assert status(api, new_id)["stage"] == "Cancelled"
    assert status(api, new_id)["lastKnownLocation"] == body["pickup"]


def test_the_flight_completing_then_the_confirmation_records_completed_once(api, create):
    new_id, _ = create()
    post(api, new_id, FlightUpdateFactory(stage="Completed", timestamp=minutes_from_now(1)))

    confirmed = api.post(
        f"/api/deliveries/{new_id}/confirmations",
        {
            "dateTime": minutes_from_now(2),
            "geoCoordinates": "47.6,-122.3",
            "confirmationType": "None",
        },
        format="json",
    )

    assert confirmed.status_code == 200
    assert stages(api, new_id) == ["Created", "Completed"]
    assert repository.confirmation(new_id) is not None


def test_null_etas_clear_them(api, create):
    new_id, _ = create(pickupETA=minutes_from_now(3))
    post(
        api,
        new_id,
        FlightUpdateFactory(
            stage="Completed", pickupETA=None, deliveryETA=None, timestamp=minutes_from_now(1)
        ),
    )
    assert status(api, new_id)["pickupETA"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stage", "Created"),
        ("stage", "Cancelled"),
        ("location", "the depot"),
        ("timestamp", None),
        ("timestamp", "yesterday"),
        ("pickupETA", "later"),
    ],
)
def test_bad_updates_are_400_naming_the_field(api, create, field, value):
    new_id, _ = create()
    response = post(api, new_id, FlightUpdateFactory(**{field: value}))
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert status(api, new_id)["stage"] == "Created"


def test_each_status_change_is_published_on_the_delivery_channel(api, create, redis_store):
    new_id, _ = create()
    subscriber = redis_store.pubsub()
    subscriber.subscribe(repository.channel(new_id))
    try:
        assert subscriber.get_message(timeout=5)["type"] == "subscribe"
        post(
            api, new_id, FlightUpdateFactory(stage="HeadedToPickup", timestamp=minutes_from_now(1))
        )
        post(
            api, new_id, FlightUpdateFactory(stage="HeadedToPickup", timestamp=minutes_from_now(2))
        )
        api.delete(f"/api/deliveries/{new_id}")
        received = []
        while len(received) < 3:
            message = subscriber.get_message(timeout=5)
            assert message is not None, f"only {received} arrived"
            received.append(message["data"].decode().split("|")[0])
    finally:
        subscriber.close()
    assert received == ["HeadedToPickup", "HeadedToPickup", "Cancelled"]
