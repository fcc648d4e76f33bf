"""`GET /api/dronedeliveries/utilization?ownerId=&year=&month=`: summed from recorded flights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from fabrikam.apps.dronescheduler import flights
from fabrikam.contract.geo import KM_PER_MILE
from tests.dronescheduler.factories import (
    SEATTLE,
    DroneFactory,
    FlightFactory,
    assignment_body,
    north_of,
)

pytestmark = pytest.mark.django_db
URL = "/api/dronedeliveries/utilization"


def test_utilization_sums_the_owners_flights_assigned_in_that_month(api):
    march = datetime(2026, 3, 1, tzinfo=UTC)
    FlightFactory(owner_id="contoso", assigned_at=march, traveled_km=10.0, assigned_hours=0.5)
    FlightFactory(
        owner_id="contoso",
        assigned_at=datetime(2026, 3, 31, 23, 59, tzinfo=UTC),
        traveled_km=6.0,
        assigned_hours=0.25,
    )
    FlightFactory(owner_id="contoso", assigned_at=datetime(2026, 4, 1, tzinfo=UTC))
    FlightFactory(owner_id="contoso", assigned_at=datetime(2026, 2, 28, 23, 59, tzinfo=UTC))
    FlightFactory(owner_id="fabrikam", assigned_at=march)

    response = api.get(URL, {"ownerId": "contoso", "year": 2026, "month": 3})

    assert response.status_code == 200
    assert response.json() == {
        "traveledMiles": round(16.0 / KM_PER_MILE, 3),
        "assignedHours": 0.75,
    }


def test_an_owner_without_flights_has_zero_utilization(api):
    response = api.get(URL, {"ownerId": "nobody", "year": 2026, "month": 12})

    assert response.json() == {"traveledMiles": 0, "assignedHours": 0}


def test_a_simulated_flight_is_counted_with_its_real_distance_and_simulated_time(api, settings):
    settings.FLIGHT_TIME_SCALE = 60
    settings.SERVICE_URL_DELIVERY = "http://127.0.0.1:9"  # nobody listens: pushes just wait
    DroneFactory(at=SEATTLE, speed_kmh=60)
    body = assignment_body(north_of(SEATTLE, 3), north_of(SEATTLE, 6), owner="tailwind")
    api.put("/api/dronedeliveries/d-util", body, format="json")
    assigned = timezone.now()
    start = assigned + timedelta(seconds=1)  # a minute of simulated waiting before take-off
    for seconds in (0, 5, 10, 20):
        flights.advance_flights(start + timedelta(seconds=seconds))

    response = api.get(URL, {"ownerId": "tailwind", "year": assigned.year, "month": assigned.month})

    # 3 km out, 3 km on, 6 km home at 60 km/h: 12 minutes flying plus the minute waiting.
    assert response.json()["traveledMiles"] == pytest.approx(12 / KM_PER_MILE, abs=0.002)
    assert response.json()["assignedHours"] == pytest.approx(13 / 60, abs=0.002)


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"year": 2026, "month": 3}, {"ownerId"}),
        ({"ownerId": "contoso", "year": "twenty", "month": 3}, {"year"}),
        ({"ownerId": "contoso", "year": 2026, "month": 13}, {"month"}),
        ({"ownerId": "contoso", "year": 2026, "month": 0}, {"month"}),
        ({"ownerId": "contoso"}, {"year", "month"}),
    ],
)
def test_bad_parameters_are_a_400_problem_naming_them(api, query, fields):
    response = api.get(URL, query)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) == fields
