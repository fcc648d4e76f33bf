"""The nearest-drone search reads a box around the pickup, widening, instead of the whole fleet: on
random fleets it must pick exactly the drone a query over the whole fleet picks."""

from __future__ import annotations

import random

import pytest

from fabrikam.apps.dronescheduler import selectors, services
from fabrikam.apps.dronescheduler.fleet import random_point
from fabrikam.apps.dronescheduler.models import Drone, DroneStatus, PackageSize
from fabrikam.contract.geo import Location
from tests.dronescheduler.factories import (
    SEATTLE,
    DroneFactory,
    assignment_body,
    east_of,
    north_of,
)

pytestmark = pytest.mark.django_db

FLEETS = 25
REQUESTS_PER_FLEET = 12


def random_fleet(rng: random.Random, count: int) -> None:
    """Drones in clusters and scattered over 80 km, in every status, size and charge."""
    clusters = [random_point(SEATTLE, 40, rng) for _ in range(rng.randint(1, 4))]
    for _ in range(count):
        center = rng.choice(clusters) if rng.random() < 0.7 else SEATTLE
        at = random_point(center, rng.choice([0.5, 3, 10, 40]), rng)
        DroneFactory(
            at=at,
            status=rng.choice([*[DroneStatus.AVAILABLE] * 4, *DroneStatus.values]),
            battery=rng.uniform(5, 100),
            range_km=rng.choice([25, 30, 35, 60]),
            max_payload_kg=rng.choice([2.5, 5, 12]),
            max_package_size=rng.choice(PackageSize.values),
        )


def whole_fleet_first(pickup: Location, dropoff: Location, weight: float, size: int, excluding):
    return (
        selectors.available_drones_by_distance(pickup, dropoff, weight, size)
        .exclude(pk__in=excluding)
        .first()
    )


def test_the_search_finds_the_drone_a_whole_fleet_query_finds():
    rng = random.Random(18)
    compared = found = 0
    for _ in range(FLEETS):
        Drone.objects.all().delete()
        random_fleet(rng, rng.randint(5, 150))
        ids = list(Drone.objects.values_list("id", flat=True))
        for _ in range(REQUESTS_PER_FLEET):
            pickup = random_point(SEATTLE, 50, rng)
            dropoff = random_point(pickup, rng.choice([1, 5, 15]), rng)
            weight, size = rng.uniform(0.1, 10), rng.choice(PackageSize.values)
            excluding = rng.sample(ids, k=min(len(ids), rng.randint(0, 3)))
            expected = whole_fleet_first(pickup, dropoff, weight, size, excluding)
            got = selectors.nearest_available_drone(
                pickup, dropoff, weight, size, excluding, lock=False
            )
            assert got == expected, (pickup, dropoff, weight, size, excluding)
            compared += 1
            found += expected is not None
    # The comparison covered both answers, near and far: a drone found, and none at all.
    assert 0 < found < compared


def test_a_drone_beyond_every_search_radius_is_still_found(api):
    far = selectors.SEARCH_RADII_KM[-1] + 5
    drone = DroneFactory(at=north_of(SEATTLE, far), range_km=200)

    response = api.put("/api/dronedeliveries/far-1", assignment_body(), format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["droneId"] == drone.id


def test_a_drone_in_the_first_boxs_corner_loses_to_a_nearer_one_outside_the_box():
    """The box's corners are farther than its radius: a drone there is not taken before a nearer
    one just outside the box."""
    radius = selectors.SEARCH_RADII_KM[0]
    DroneFactory(id="corner", at=east_of(north_of(SEATTLE, radius * 0.9), radius * 0.9))
    DroneFactory(id="beyond", at=north_of(SEATTLE, radius * 1.1))
    request = services.AssignmentRequest(
        "corner-1",
        "contoso",
        SEATTLE,
        north_of(SEATTLE, 1),
        (services.PackageDetail("p", "Small", 1.0),),
    )
    assert services.assign_drone(request).drone_id == "beyond"
