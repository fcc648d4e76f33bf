"""Assigning drones to deliveries and releasing them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from fabrikam.apps.dronescheduler import selectors
from fabrikam.apps.dronescheduler.exceptions import NoDroneAvailable
from fabrikam.apps.dronescheduler.models import Drone, DroneDelivery, DroneStatus, PackageSize
from fabrikam.geo import Location, distance_km

CANDIDATES_PER_ASSIGNMENT = 25


@dataclass(frozen=True)
class PackageDetail:
    id: str
    size: str
    weight: float


@dataclass(frozen=True)
class AssignmentRequest:
    delivery_id: str
    owner_id: str
    pickup: Location
    dropoff: Location
    packages: tuple[PackageDetail, ...]
    expedited: bool = False


def flight_km(drone: Drone, pickup: Location, dropoff: Location) -> float:
    """Drone → pickup → dropoff → home."""
    return (
        distance_km(drone.position, pickup)
        + distance_km(pickup, dropoff)
        + distance_km(dropoff, drone.home)
    )


def has_battery_for(drone: Drone, km: float) -> bool:
    reserve = settings.DRONE_BATTERY_RESERVE
    return drone.range_km * drone.battery / 100 >= km * (1 + reserve)


def _etas(
    drone: Drone, pickup: Location, dropoff: Location, start: datetime
) -> tuple[datetime, datetime]:
    hours_to_pickup = distance_km(drone.position, pickup) / drone.speed_kmh
    hours_to_dropoff = distance_km(pickup, dropoff) / drone.speed_kmh
    scale = settings.FLIGHT_TIME_SCALE
    pickup_eta = start + timedelta(hours=hours_to_pickup / scale)
    return pickup_eta, pickup_eta + timedelta(hours=hours_to_dropoff / scale)


def assign_drone(request: AssignmentRequest) -> DroneDelivery:
    """The nearest available drone that can carry the packages and fly the whole trip.

    Idempotent: the same delivery id gets its existing assignment back. Two concurrent callers never
    get the same drone: PostgreSQL locks candidates with SKIP LOCKED; SQLite serialises writers
    (transactions begin IMMEDIATE, see settings).
    """
    existing = (
        DroneDelivery.objects.select_related("drone")
        .filter(delivery_id=request.delivery_id)
        .first()
    )
    if existing is not None:
        return existing
    try:
        return _assign_nearest(request)
    except IntegrityError:
        # A concurrent call for the same delivery won; its assignment is the answer.
        return DroneDelivery.objects.select_related("drone").get(delivery_id=request.delivery_id)


def _assign_nearest(request: AssignmentRequest) -> DroneDelivery:
    weight = sum(p.weight for p in request.packages)
    size = max((PackageSize.parse(p.size) for p in request.packages), default=PackageSize.SMALL)
    with transaction.atomic():
        candidates = selectors.available_drones_by_distance(request.pickup, weight, size)
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        for drone in candidates[:CANDIDATES_PER_ASSIGNMENT]:
            if not has_battery_for(drone, flight_km(drone, request.pickup, request.dropoff)):
                continue
            now = timezone.now()
            pickup_eta, delivery_eta = _etas(drone, request.pickup, request.dropoff, now)
            drone.status = DroneStatus.ASSIGNED
            drone.save(update_fields=["status", "updated_at"])
            return DroneDelivery.objects.create(
                delivery_id=request.delivery_id,
                drone=drone,
                owner_id=request.owner_id,
                pickup_latitude=request.pickup.latitude,
                pickup_longitude=request.pickup.longitude,
                dropoff_latitude=request.dropoff.latitude,
                dropoff_longitude=request.dropoff.longitude,
                package_details=[p.__dict__ for p in request.packages],
                expedited=request.expedited,
                pickup_eta=pickup_eta,
                delivery_eta=delivery_eta,
            )
    raise NoDroneAvailable(
        f"No available drone can carry {weight:g} kg ({size.label}) from the pickup and back."
    )


def release_drone(delivery_id: str) -> DroneDelivery:
    """Free the drone assigned to `delivery_id` (cancel or compensation). Idempotent."""
    with transaction.atomic():
        assignment = selectors.get_drone_delivery(delivery_id)
        if assignment.stage != DroneDelivery.Stage.RELEASED:
            assignment.stage = DroneDelivery.Stage.RELEASED
            assignment.released_at = timezone.now()
            assignment.save(update_fields=["stage", "released_at"])
            Drone.objects.filter(pk=assignment.drone_id, status=DroneStatus.ASSIGNED).update(
                status=DroneStatus.AVAILABLE, updated_at=timezone.now()
            )
        return assignment
