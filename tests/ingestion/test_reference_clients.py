"""What clients of the reference implementation send (its own tests, docs and load test replayed):
accepted where the meaning is clear, refused with a problem naming the accepted forms where not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.ingestion.factories import DeliveryRequestFactory, PackageInfoFactory
from tests.ingestion.test_validation import assert_problem

# Every POST here once through the fast validation path and once through the serializer alone.
pytestmark = pytest.mark.usefixtures("validation_path")

URL = "/api/deliveryrequests"
PICKUP = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
PICKUP_MS = int(PICKUP.timestamp() * 1000)  # what its Java clients send


def queued_request(received) -> dict:
    (message,) = received()
    return message.body


def test_pickup_time_in_epoch_milliseconds_is_accepted(api, received):
    response = api.post(URL, DeliveryRequestFactory(pickupTime=PICKUP_MS), format="json")

    assert response.status_code == 202, response.content
    assert response.json()["pickupTime"] == "2026-12-01T10:00:00Z"
    assert queued_request(received)["pickupTime"] == "2026-12-01T10:00:00Z"


@pytest.mark.parametrize(
    "seconds_or_junk", [int(PICKUP.timestamp()), -PICKUP_MS, 10**16, True, 1.7e12]
)
def test_pickup_time_as_seconds_or_another_number_is_refused(api, received, seconds_or_junk):
    body = DeliveryRequestFactory(pickupTime=seconds_or_junk)
    problem = assert_problem(api.post(URL, body, format="json"), 400, "pickupTime")
    assert "epoch milliseconds" in problem["errors"]["pickupTime"][0]
    assert received() == []


def test_a_reschedule_takes_epoch_milliseconds_too(api, received):
    response = api.patch(f"{URL}/d-1", {"pickupTime": PICKUP_MS}, format="json")
    assert response.status_code == 202, response.content


def test_null_for_an_optional_field_is_as_if_it_were_absent(api, received):
    body = DeliveryRequestFactory(
        expedited=None,
        deadline=None,
        confirmationRequired=None,
        packageInfo=PackageInfoFactory(tag=None),
    )
    response = api.post(URL, body, format="json")

    assert response.status_code == 202, response.content
    echoed = response.json()
    assert echoed["expedited"] is False
    assert echoed["packageInfo"]["tag"] == ""
    assert echoed["deadline"] is None
    assert echoed["confirmationRequired"] == "None"


@pytest.mark.parametrize("field", ["ownerId", "pickupTime", "packageInfo"])
def test_null_for_a_required_field_is_still_refused(api, received, field):
    body = DeliveryRequestFactory(**{field: None})
    assert_problem(api.post(URL, body, format="json"), 400, field)
    assert received() == []


@pytest.mark.parametrize("place", ["0,47.6,-122.3", "47.6,-122.3,0", "47.6, -122.3, 120"])
def test_a_three_part_location_string_is_refused_naming_the_accepted_forms(api, received, place):
    problem = assert_problem(
        api.post(URL, DeliveryRequestFactory(pickupLocation=place), format="json"),
        400,
        "pickupLocation",
    )
    message = problem["errors"]["pickupLocation"][0]
    assert '"lat,lon"' in message
    assert '"altitude"' in message
    assert received() == []


def test_a_location_object_with_altitude_is_the_way_to_give_one(api, received):
    place = {"latitude": 47.6, "longitude": -122.3, "altitude": 120}
    response = api.post(URL, DeliveryRequestFactory(pickupLocation=place), format="json")
    assert response.status_code == 202, response.content
    assert response.json()["pickupLocation"] == place
