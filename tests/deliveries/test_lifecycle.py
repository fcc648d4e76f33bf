"""A delivery's life: flight, reschedule, cancel with its 7-day expiry, confirm; its events."""

from __future__ import annotations

import pytest

from fabrikam.apps.deliveries import repository
from tests.deliveries.conftest import stages
from tests.deliveries.factories import (
    ConfirmationFactory,
    FlightUpdateFactory,
    LocationFactory,
    NotifyMeFactory,
    minutes_from_now,
    moment,
)
from tests.support.live import wait_until

pytestmark = [pytest.mark.redis]

SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000


def fly(api, delivery_id: str, stage: str, timestamp: str, **fields) -> None:
    update = FlightUpdateFactory(stage=stage, timestamp=timestamp, **fields)
    response = api.post(f"/api/deliveries/{delivery_id}/tracking", update, format="json")
    assert response.status_code == 204, response.content


def test_a_full_delivery_records_its_events_in_order(api, create):
    new_id, body = create(confirmationRequired="FingerPrint")
    took_off, picked_up, handed_over = (minutes_from_now(m) for m in (1, 5, 12))
    fly(api, new_id, "HeadedToPickup", took_off)
    fly(api, new_id, "HeadedToDropoff", picked_up)
    handed_over_at = LocationFactory()
    confirmation = ConfirmationFactory(
        confirmationType="FingerPrint",
        dateTime=handed_over,
        geoCoordinates=handed_over_at,
        confirmationBlob="bWludXRpYWU=",
    )

    confirmed = api.post(f"/api/deliveries/{new_id}/confirmations", confirmation, format="json")

    assert confirmed.status_code == 200
    assert confirmed.json()["stage"] == "Completed"
    events = api.get(f"/api/deliveries/{new_id}/events").json()
    assert [e["stage"] for e in events] == [
        "Created",
        "HeadedToPickup",
        "HeadedToDropoff",
        "Completed",
    ]
    assert events[0]["location"] == body["pickup"]
    assert moment(events[1]["timestamp"]) == moment(took_off)
    assert events[3]["location"] == handed_over_at
    assert moment(events[3]["timestamp"]) == moment(handed_over)
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    stored = repository.confirmation(new_id)
    assert stored.confirmation_blob == "bWludXRpYWU="
    assert stored.geo_coordinates.latitude == handed_over_at["latitude"]


def test_reschedule_changes_the_places_and_records_rescheduled(api, create):
    new_id, _ = create()
    new_pickup = LocationFactory()

    response = api.patch(
        f"/api/deliveries/{new_id}",
        {"pickup": new_pickup, "deadline": "2026-12-01T15:00:00Z"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["pickup"] == new_pickup
    assert response.json()["deadline"] == "2026-12-01T15:00:00Z"
    assert response.json()["stage"] == "Rescheduled"
    events = api.get(f"/api/deliveries/{new_id}/events").json()
    assert [e["stage"] for e in events] == ["Created", "Rescheduled"]
    assert events[1]["location"] == new_pickup
    assert api.get(f"/api/deliveries/{new_id}/status").json()["lastKnownLocation"] == new_pickup


def test_an_empty_reschedule_is_a_400(api, create):
    new_id, _ = create()
    response = api.patch(f"/api/deliveries/{new_id}", {}, format="json")
    assert response.status_code == 400
    assert stages(api, new_id) == ["Created"]


def test_no_reschedule_once_the_drone_has_the_package(api, create):
    new_id, _ = create()
    fly(api, new_id, "HeadedToDropoff", minutes_from_now(0))

    response = api.patch(f"/api/deliveries/{new_id}", {"pickup": "47.6,-122.3"}, format="json")

    assert response.status_code == 409
    assert response.json()["stage"] == "HeadedToDropoff"


def test_cancel_records_cancelled_and_every_key_expires_in_seven_days(api, create, redis_store):
    new_id, _ = create()
    api.post(f"/api/deliveries/{new_id}/notifymerequests", NotifyMeFactory(), format="json")

    response = api.delete(f"/api/deliveries/{new_id}")

    assert response.status_code == 200
    assert response.json()["stage"] == "Cancelled"
    assert api.get(f"/api/deliveries/{new_id}").json()["stage"] == "Cancelled"
    assert stages(api, new_id) == ["Created", "Cancelled"]
    for name in ("d", "ev", "nm"):
        ttl = redis_store.pttl(repository.key(name, new_id))
        assert SEVEN_DAYS_MS - 60_000 < ttl <= SEVEN_DAYS_MS, name


def test_cancelling_twice_is_fine_and_records_one_event(api, create):
    new_id, _ = create()
    first = api.delete(f"/api/deliveries/{new_id}")
    second = api.delete(f"/api/deliveries/{new_id}")
    assert second.status_code == 200
    assert second.json() == first.json()
    assert stages(api, new_id) == ["Created", "Cancelled"]


def test_a_cancelled_delivery_cannot_be_patched_put_or_confirmed(api, create):
    new_id, body = create()
    api.delete(f"/api/deliveries/{new_id}")

    patched = api.patch(f"/api/deliveries/{new_id}", {"pickup": "47.6,-122.3"}, format="json")
    put = api.put(f"/api/deliveries/{new_id}", body, format="json")
    confirmed = api.post(
        f"/api/deliveries/{new_id}/confirmations", ConfirmationFactory(), format="json"
    )

    assert [patched.status_code, put.status_code, confirmed.status_code] == [409, 409, 409]
    assert stages(api, new_id) == ["Created", "Cancelled"]


def test_cancel_of_a_completed_delivery_is_409(api, create):
    new_id, _ = create()
    api.post(f"/api/deliveries/{new_id}/confirmations", ConfirmationFactory(), format="json")

    response = api.delete(f"/api/deliveries/{new_id}")

    assert response.status_code == 409
    assert api.get(f"/api/deliveries/{new_id}").json()["stage"] == "Completed"


def test_after_expiry_it_is_gone_and_never_resurrected(api, create, redis_store, settings):
    settings.DELIVERY_CANCELLED_TTL_SECONDS = 1
    new_id, body = create()
    cancelled = api.delete(f"/api/deliveries/{new_id}").json()
    wait_until(
        lambda: api.get(f"/api/deliveries/{new_id}").status_code == 404,
        5,
        "Redis to expire the cancelled delivery",
    )

    assert not redis_store.exists(repository.key("ev", new_id))
    patched = api.patch(f"/api/deliveries/{new_id}", {"pickup": "47.6,-122.3"}, format="json")
    put = api.put(f"/api/deliveries/{new_id}", body, format="json")
    assert patched.status_code == 409
    assert put.status_code == 409
    assert api.get(f"/api/deliveries/{new_id}").status_code == 404
    assert api.delete(f"/api/deliveries/{new_id}").json() == cancelled


def test_an_empty_deadline_in_a_reschedule_removes_it(api, create):
    new_id, _ = create()
    response = api.patch(f"/api/deliveries/{new_id}", {"deadline": ""}, format="json")
    assert response.status_code == 200
    assert response.json()["deadline"] is None
    assert api.get(f"/api/deliveries/{new_id}").json()["deadline"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("pickup", "Pike Place Market"), ("pickupTime", "noon"), ("deadline", "later")],
)
def test_bad_reschedules_are_400_naming_the_field(api, create, field, value):
    new_id, _ = create()
    response = api.patch(f"/api/deliveries/{new_id}", {field: value}, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert api.get(f"/api/deliveries/{new_id}").json()["stage"] == "Created"
