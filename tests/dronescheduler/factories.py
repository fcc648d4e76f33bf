"""Test data for the drone scheduler: drones placed by distance, assignments, flights."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import factory
from factory.django import DjangoModelFactory

from fabrikam.apps.dronescheduler.models import (
    Drone,
    DroneDelivery,
    DroneStatus,
    Flight,
    PackageSize,
)
from fabrikam.contract.geo import EARTH_RADIUS_KM, Location

SEATTLE = Location(47.6062, -122.3321)


def north_of(origin: Location, km: float) -> Location:
    return Location(origin.latitude + math.degrees(km / EARTH_RADIUS_KM), origin.longitude)


def east_of(origin: Location, km: float) -> Location:
    d_lon = math.degrees(km / (EARTH_RADIUS_KM * math.cos(math.radians(origin.latitude))))
    return Location(origin.latitude, origin.longitude + d_lon)


class DroneFactory(DjangoModelFactory):
    """A Kestrel-like drone based at SEATTLE; pass `at=Location` to place it (and its home)."""

    class Meta:
        model = Drone

    class Params:
        at = SEATTLE

    id = factory.Sequence(lambda n: f"test-drone-{n:04d}")
    model = "Fabrikam Kestrel"
    status = DroneStatus.AVAILABLE
    latitude = factory.LazyAttribute(lambda o: o.at.latitude)
    longitude = factory.LazyAttribute(lambda o: o.at.longitude)
    home_latitude = factory.LazyAttribute(lambda o: o.latitude)
    home_longitude = factory.LazyAttribute(lambda o: o.longitude)
    battery = 100.0
    range_km = 35.0
    max_payload_kg = 5.0
    max_package_size = PackageSize.MEDIUM
    speed_kmh = 60.0


class DroneDeliveryFactory(DjangoModelFactory):
    class Meta:
        model = DroneDelivery

    delivery_id = factory.Sequence(lambda n: f"delivery-{n:04d}")
    drone = factory.SubFactory(DroneFactory, status=DroneStatus.ASSIGNED)
    owner_id = "contoso"
    pickup_latitude = SEATTLE.latitude
    pickup_longitude = SEATTLE.longitude
    dropoff_latitude = factory.LazyAttribute(lambda o: north_of(SEATTLE, 2).latitude)
    dropoff_longitude = SEATTLE.longitude
    package_details = factory.LazyFunction(lambda: [{"id": "p1", "size": "Small", "weight": 1.0}])


class FlightFactory(DjangoModelFactory):
    """A landed flight: the invoicing record utilization is summed from."""

    class Meta:
        model = Flight

    delivery = factory.SubFactory(DroneDeliveryFactory, stage=DroneDelivery.Stage.COMPLETED)
    drone = factory.LazyAttribute(lambda o: o.delivery.drone)
    owner_id = factory.LazyAttribute(lambda o: o.delivery.owner_id)
    phase = Flight.Phase.LANDED
    assigned_at = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    leg_origin_latitude = SEATTLE.latitude
    leg_origin_longitude = SEATTLE.longitude
    traveled_km = 10.0
    assigned_hours = 0.5


def assignment_body(
    pickup: Location = SEATTLE,
    dropoff: Location | None = None,
    size: str = "Small",
    weight: float = 1.0,
    owner: str = "contoso",
) -> dict:
    """The body the workflow sends to `PUT /api/dronedeliveries/{id}` (API.md)."""
    return {
        "ownerId": owner,
        "pickup": pickup.as_dict(),
        "dropoff": (dropoff or north_of(pickup, 2)).as_dict(),
        "packageDetails": [{"id": "pkg-1", "size": size, "weight": weight}],
        "expedited": False,
    }
