"""Rescheduling a delivery re-plans its flight (PATCH /api/dronedeliveries/{id})."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fabrikam.apps.dronescheduler import flights
from fabrikam.apps.dronescheduler.models import DroneDelivery, Flight
from fabrikam.contract.geo import Location, distance_km
from tests.dronescheduler.factories import SEATTLE, east_of, north_of
from tests.dronescheduler.test_flights import DROPOFF, PICKUP, assign, fast_flights  # noqa: F401

pytestmark = pytest.mark.django_db
NEW_DROPOFF = east_of(north_of(SEATTLE, 4), 2)


def replan(api, body: dict, delivery_id: str = "d-fly"):
    return api.patch(f"/api/dronedeliveries/{delivery_id}", body, format="json")


def test_a_new_dropoff_before_take_off_moves_the_route_and_the_eta(api, tracking):
    assign(api)
    before = DroneDelivery.objects.get(delivery_id="d-fly")
    response = replan(api, {"dropoff": f"{NEW_DROPOFF.latitude},{NEW_DROPOFF.longitude}"})
    assert response.status_code == 200, response.content
    after = DroneDelivery.objects.get(delivery_id="d-fly")
    assert distance_km(after.dropoff, NEW_DROPOFF) < 0.01
    farther = distance_km(PICKUP, NEW_DROPOFF) > distance_km(PICKUP, DROPOFF)
    assert farther
    assert after.delivery_eta > before.delivery_eta


def test_a_drone_in_the_air_turns_towards_the_new_dropoff(api, tracking):
    assign(api)
    start = timezone.now()
    flights.advance_flights(start)
    flights.advance_flights(start + timedelta(seconds=3))  # past the pickup, heading to dropoff
    flight = Flight.objects.get(delivery__delivery_id="d-fly")
    assert flight.phase == Flight.Phase.TO_DROPOFF

    flights_now = start + timedelta(seconds=3.2)
    response = replan(
        api, {"dropoff": {"latitude": NEW_DROPOFF.latitude, "longitude": NEW_DROPOFF.longitude}}
    )
    assert response.status_code == 200, response.content
    for n in range(1, 40):
        flights.advance_flights(flights_now + timedelta(seconds=0.5 * n))
    delivered = [u for u in tracking.updates("d-fly") if u["stage"] == "Completed"]
    landed_at = Location.from_dict(delivered[0]["location"])
    assert distance_km(landed_at, NEW_DROPOFF) < 0.01


def test_the_pickup_cannot_move_after_the_package_was_picked_up(api, tracking):
    assign(api)
    start = timezone.now()
    flights.advance_flights(start)
    flights.advance_flights(start + timedelta(seconds=3))
    response = replan(api, {"pickup": "47.70,-122.30"})
    assert response.status_code == 409
    assert response.json()["title"] == "The delivery's route can no longer change"


def test_a_route_beyond_the_battery_is_refused(api, tracking):
    assign(api)
    response = replan(api, {"dropoff": f"{SEATTLE.latitude + 1},{SEATTLE.longitude}"})  # ~111 km
    assert response.status_code == 409
    assert "battery" in response.json()["detail"]


def test_an_empty_replan_is_a_400_naming_the_fields(api, tracking):
    assign(api)
    response = replan(api, {})
    assert response.status_code == 400
    assert "pickup, dropoff" in str(response.json()["errors"])


def test_a_released_assignment_is_not_handed_out_again(api, tracking):
    assign(api)
    assert api.delete("/api/dronedeliveries/d-fly").status_code == 200
    from tests.dronescheduler.factories import assignment_body

    again = api.put("/api/dronedeliveries/d-fly", assignment_body(PICKUP, DROPOFF), format="json")
    assert again.status_code == 410
    assert again.json()["title"] == "The drone assignment was released"
