"""The flight simulation, driven tick by tick with an explicit clock; its tracking updates reach a
real HTTP endpoint standing in for the delivery service."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from itertools import groupby

import pytest
from django.db import connections
from django.utils import timezone

from fabrikam.apps.dronescheduler import flights
from fabrikam.apps.dronescheduler.models import Drone, DroneStatus, Flight, TrackingUpdate
from fabrikam.contract.geo import Location, distance_km
from tests.dronescheduler.factories import SEATTLE, DroneFactory, assignment_body, north_of

pytestmark = pytest.mark.django_db
PICKUP, DROPOFF = north_of(SEATTLE, 2), north_of(SEATTLE, 4)


@pytest.fixture(autouse=True)
def fast_flights(settings):
    # 60 km/h at 60x: each 2 km leg takes 2 s, the whole trip (2 + 2 + 4 km home) 8 s.
    settings.FLIGHT_TIME_SCALE = 60
    settings.DRONE_FULL_CHARGE_MINUTES = 60  # a full charge in 60 s at 60x


def assign(api, delivery_id: str = "d-fly") -> str:
    DroneFactory(at=SEATTLE, range_km=35)
    body = assignment_body(PICKUP, DROPOFF)
    response = api.put(f"/api/dronedeliveries/{delivery_id}", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()["droneId"]


def at(update: dict) -> datetime:
    return datetime.fromisoformat(update["timestamp"])


def where(update: dict) -> Location:
    return Location.from_dict(update["location"])


def ticks(start: datetime, seconds: float, every: float = 0.5) -> list[datetime]:
    return [start + timedelta(seconds=every * n) for n in range(int(seconds / every) + 1)]


def test_a_flight_goes_pickup_dropoff_home_with_moving_positions_and_closing_etas(api, tracking):
    drone_id = assign(api)
    start = timezone.now()

    for now in ticks(start, 10):
        flights.advance_flights(now)

    updates = tracking.updates("d-fly")
    stages = [stage for stage, _ in groupby(u["stage"] for u in updates)]
    assert stages == ["HeadedToPickup", "HeadedToDropoff", "Completed"]
    times = [at(u) for u in updates]
    assert times == sorted(times)
    assert len(set(times)) == len(times)

    to_pickup = [u for u in updates if u["stage"] == "HeadedToPickup"]
    to_dropoff = [u for u in updates if u["stage"] == "HeadedToDropoff"]
    assert len(to_pickup) >= 3
    assert len(to_dropoff) >= 3
    gaps = [distance_km(where(u), PICKUP) for u in to_pickup]
    assert gaps == sorted(gaps, reverse=True)
    assert len(set(gaps)) == len(gaps)
    assert gaps[0] == pytest.approx(2.0, abs=0.01)
    gaps = [distance_km(where(u), DROPOFF) for u in to_dropoff]
    assert gaps == sorted(gaps, reverse=True)
    assert len(set(gaps)) == len(gaps)
    assert distance_km(where(to_dropoff[0]), PICKUP) < 0.001  # reported on arrival at pickup

    in_flight = to_pickup + to_dropoff
    remaining = [datetime.fromisoformat(u["deliveryETA"]) - at(u) for u in in_flight]
    assert remaining == sorted(remaining, reverse=True)
    assert len(set(remaining)) == len(remaining)
    etas = {datetime.fromisoformat(u["deliveryETA"]) for u in in_flight}
    assert max(etas) - min(etas) < timedelta(milliseconds=10)  # a steady flight keeps its ETA
    assert min(etas) == pytest.approx(start + timedelta(seconds=4), abs=timedelta(milliseconds=10))

    completed = updates[-1]
    assert completed["stage"] == "Completed"
    assert distance_km(where(completed), DROPOFF) < 0.001
    assert at(completed) == datetime.fromisoformat(completed["deliveryETA"])

    drone = Drone.objects.get(pk=drone_id)
    assert drone.status == DroneStatus.CHARGING
    assert drone.position == drone.home
    # 8 km of 35 km range used, then 2 s (2 simulated minutes) of a 60-minute charge.
    assert drone.battery == pytest.approx(100 - 100 * 8 / 35 + 100 * 2 / 60, abs=0.01)
    shown = api.get("/api/dronedeliveries/d-fly").json()
    assert shown["stage"] == "Completed"
    assert shown["flight"]["phase"] == "Landed"
    assert shown["flight"]["traveledKm"] == pytest.approx(8.0, abs=0.01)


def test_a_landed_drone_charges_and_is_available_again(api, tracking):
    drone_id = assign(api)
    start = timezone.now()
    flights.advance_flights(start)
    flights.advance_flights(start + timedelta(seconds=8))  # home, battery used for 8 km
    drone = Drone.objects.get(pk=drone_id)
    assert drone.status == DroneStatus.CHARGING
    used = 100 - drone.battery

    flights.advance_flights(start + timedelta(seconds=8 + used * 0.6 - 1))
    assert Drone.objects.get(pk=drone_id).status == DroneStatus.CHARGING

    flights.advance_flights(start + timedelta(seconds=8 + used * 0.6 + 0.1))
    drone.refresh_from_db()
    assert drone.status == DroneStatus.AVAILABLE
    assert drone.battery == 100


def test_one_long_tick_still_reports_every_stage_in_order(api, tracking):
    drone_id = assign(api)
    start = timezone.now()

    flights.advance_flights(start)
    flights.advance_flights(start + timedelta(seconds=9))

    updates = tracking.updates("d-fly")
    assert [u["stage"] for u in updates] == ["HeadedToPickup", "HeadedToDropoff", "Completed"]
    assert [at(u) - start for u in updates] == [
        timedelta(0),
        pytest.approx(timedelta(seconds=2), abs=timedelta(milliseconds=5)),
        pytest.approx(timedelta(seconds=4), abs=timedelta(milliseconds=5)),
    ]
    drone = Drone.objects.get(pk=drone_id)
    assert drone.position == drone.home


def test_the_flight_goes_on_while_the_delivery_service_is_down_and_catches_up(
    api, tracking, settings
):
    settings.CIRCUIT_BREAKER_FAILURES = 100  # this test is about the outbox, not the breaker
    assign(api)
    start = timezone.now()
    tracking.status = 503

    for now in ticks(start, 3):
        flights.advance_flights(now)

    assert tracking.refused > 0
    assert tracking.updates("d-fly") == []
    flight = Flight.objects.get(delivery__delivery_id="d-fly")
    assert flight.phase == Flight.Phase.TO_DROPOFF  # it flew on

    tracking.status = 204
    flights.advance_flights(start + timedelta(seconds=3.5))

    updates = tracking.updates("d-fly")
    assert [u["stage"] for u in updates] == ["HeadedToPickup", "HeadedToDropoff", "HeadedToDropoff"]
    assert at(updates[-1]) == start + timedelta(seconds=3.5)
    assert not TrackingUpdate.objects.exists()


def test_updates_for_a_delivery_the_delivery_service_does_not_know_yet_are_retried(api, tracking):
    assign(api)
    start = timezone.now()
    tracking.status = 404  # the saga assigns the drone before it creates the delivery

    flights.advance_flights(start)
    tracking.status = 204
    flights.advance_flights(start + timedelta(seconds=1))

    assert [u["stage"] for u in tracking.updates("d-fly")] == ["HeadedToPickup"] * 2


def test_a_tick_older_than_the_last_one_changes_nothing(api, tracking):
    drone_id = assign(api)
    start = timezone.now()
    flights.advance_flights(start)
    flights.advance_flights(start + timedelta(seconds=1.5))
    position = Drone.objects.get(pk=drone_id).position
    sent = len(tracking.posts)

    flights.advance_flights(start + timedelta(seconds=1))

    assert Drone.objects.get(pk=drone_id).position == position
    assert len(tracking.posts) == sent


def test_releasing_a_flying_drone_sends_it_home_and_stops_its_tracking(api, tracking):
    drone_id = assign(api)
    start = timezone.now()
    flights.advance_flights(start)
    flights.advance_flights(start + timedelta(seconds=1))  # halfway to the pickup, 1 km north

    from fabrikam.apps.dronescheduler.services import release_drone

    release_drone("d-fly", start + timedelta(seconds=1))
    sent = len(tracking.posts)
    drone = Drone.objects.get(pk=drone_id)
    assert drone.status == DroneStatus.IN_FLIGHT
    flights.advance_flights(start + timedelta(seconds=1.5))
    assert distance_km(Drone.objects.get(pk=drone_id).position, SEATTLE) == pytest.approx(
        0.5, abs=0.01
    )
    flights.advance_flights(start + timedelta(seconds=3))

    drone.refresh_from_db()
    assert drone.status == DroneStatus.CHARGING
    assert drone.position == drone.home
    assert len(tracking.posts) == sent
    flight = Flight.objects.get(delivery__delivery_id="d-fly")
    assert flight.traveled_km == pytest.approx(2.0, abs=0.01)
    assert api.get("/api/dronedeliveries/d-fly").json()["stage"] == "Released"


@pytest.mark.django_db(transaction=True)
def test_a_tick_that_overlaps_a_running_one_is_skipped(api, tracking):
    drone_id = assign(api)
    start = timezone.now()
    tracking.hold = threading.Event()  # the first tick blocks while sending its update
    first: dict[str, flights.TickReport] = {}

    def first_tick() -> None:
        try:
            first["report"] = flights.advance_flights(start)
        finally:
            connections.close_all()

    runner = threading.Thread(target=first_tick)
    runner.start()
    try:
        assert tracking.holding.wait(timeout=10)
        second = flights.advance_flights(start + timedelta(seconds=1))
    finally:
        tracking.hold.set()
        runner.join(timeout=30)

    assert second.skipped
    assert not first["report"].skipped
    assert first["report"].advanced == 1
    assert Flight.objects.get(drone_id=drone_id).ticked_at == start
    assert flights.advance_flights(start + timedelta(seconds=1)).advanced == 1
