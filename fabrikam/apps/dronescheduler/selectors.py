"""Reads of the fleet."""

from __future__ import annotations

import math

from django.db.models import Count, F, FloatField, QuerySet
from django.db.models.expressions import ExpressionWrapper

from fabrikam.apps.dronescheduler.exceptions import DroneDeliveryNotFound
from fabrikam.apps.dronescheduler.models import Drone, DroneDelivery, DroneStatus
from fabrikam.geo import Location


def available_drones_by_distance(pickup: Location, weight_kg: float, size: int) -> QuerySet[Drone]:
    """Available drones that can carry the load, nearest to `pickup` first.

    The ordering uses an equirectangular approximation (plain arithmetic, so PostgreSQL and SQLite
    both sort in SQL); the caller checks exact distances and battery on the first few.
    """
    cos_lat = math.cos(math.radians(pickup.latitude))
    d_lat = F("latitude") - pickup.latitude
    d_lon = (F("longitude") - pickup.longitude) * cos_lat
    return (
        Drone.objects.filter(
            status=DroneStatus.AVAILABLE, max_payload_kg__gte=weight_kg, max_package_size__gte=size
        )
        .annotate(
            approx_sq_distance=ExpressionWrapper(
                d_lat * d_lat + d_lon * d_lon, output_field=FloatField()
            )
        )
        .order_by("approx_sq_distance", "id")
    )


def get_drone_delivery(delivery_id: str) -> DroneDelivery:
    found = DroneDelivery.objects.select_related("drone").filter(delivery_id=delivery_id).first()
    if found is None:
        raise DroneDeliveryNotFound(f"No drone is assigned to delivery {delivery_id}.")
    return found


def drones_by_status() -> dict[str, int]:
    """How many drones are in each status (every status, zero included)."""
    counts = dict(Drone.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {status: counts.get(status, 0) for status in DroneStatus.values}
