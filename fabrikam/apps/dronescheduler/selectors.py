"""Reads of the fleet, its assignments and flights."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, FloatField, QuerySet, Sum, Value
from django.db.models.expressions import ExpressionWrapper
from django.db.models.functions import Sqrt

from fabrikam.apps.dronescheduler.exceptions import DroneDeliveryNotFound, DroneNotFound
from fabrikam.apps.dronescheduler.models import Drone, DroneDelivery, DroneStatus, Flight
from fabrikam.contract.geo import EARTH_RADIUS_KM, KM_PER_MILE, Location, distance_km

KM_PER_DEGREE = 2 * math.pi * EARTH_RADIUS_KM / 360
# The SQL battery filter uses a flat-earth distance; it lets through trips up to this much longer
# than the battery allows, and the caller checks the exact (haversine) distance.
BATTERY_FILTER_SLACK = 0.98
# The nearest drone is looked for within these distances of the pickup first (a box on the
# indexed position, then the disc), then in the whole fleet: a few hundred rows instead of all.
SEARCH_RADII_KM = (2.0, 8.0, 32.0)


def _approx_km(lat: F, lon: F, to: Location) -> ExpressionWrapper:
    """Equirectangular distance in SQL (plain arithmetic, so PostgreSQL and SQLite agree): within
    0.5% of the great-circle distance over a drone's few tens of kilometres."""
    cos_lat = math.cos(math.radians(to.latitude))
    d_lat = lat - Value(to.latitude)
    d_lon = (lon - Value(to.longitude)) * Value(cos_lat)
    return ExpressionWrapper(
        Sqrt(d_lat * d_lat + d_lon * d_lon) * Value(KM_PER_DEGREE), output_field=FloatField()
    )


def available_drones_by_distance(
    pickup: Location,
    dropoff: Location,
    weight_kg: float,
    size: int,
    within_km: float | None = None,
) -> QuerySet[Drone]:
    """Available drones that can carry the load and (roughly) fly the whole trip, nearest to
    `pickup` first, sorted in SQL (bench/assignment_latency.py measures it against a scan in
    Python: tens of times faster with 10,000 drones). `within_km` keeps those at most that far
    (by the same flat-earth measure the order uses), read through the (status, latitude,
    longitude) index."""
    cos_lat = math.cos(math.radians(pickup.latitude))
    d_lat = F("latitude") - Value(pickup.latitude)
    d_lon = (F("longitude") - Value(pickup.longitude)) * Value(cos_lat)
    delivery_km = distance_km(pickup, dropoff)
    trip_km = (
        _approx_km(F("latitude"), F("longitude"), pickup)
        + Value(delivery_km)
        + _approx_km(F("home_latitude"), F("home_longitude"), dropoff)
    )
    reserve = 1 + settings.DRONE_BATTERY_RESERVE
    drones = (
        Drone.objects.filter(
            status=DroneStatus.AVAILABLE,
            max_payload_kg__gte=weight_kg,
            max_package_size__gte=size,
        )
        .annotate(
            sq_degrees=ExpressionWrapper(d_lat * d_lat + d_lon * d_lon, output_field=FloatField()),
            charge_km=ExpressionWrapper(
                F("range_km") * F("battery") / Value(100.0), output_field=FloatField()
            ),
            trip_km=ExpressionWrapper(
                trip_km * Value(reserve * BATTERY_FILTER_SLACK), output_field=FloatField()
            ),
        )
        .filter(charge_km__gte=F("trip_km"))
    )
    if within_km is not None:
        reach = within_km / KM_PER_DEGREE  # in degrees of latitude
        drones = drones.filter(
            latitude__range=(pickup.latitude - reach, pickup.latitude + reach),
            longitude__range=(
                pickup.longitude - reach / cos_lat,
                pickup.longitude + reach / cos_lat,
            ),
            sq_degrees__lte=reach * reach,
        )
    return drones.order_by("sq_degrees", "id")


def fleet_can_serve(pickup: Location, dropoff: Location, weight_kg: float, size: int) -> bool:
    """Whether any drone of the fleet, whatever it is doing now, could fly this delivery from its
    home on a full charge: carry the load and the size, reach pickup and dropoff and fly home with
    its reserve. An empty fleet answers True (drones may not be seeded yet: wait, not refuse).

    Lenient on purpose (the flat-earth distance with the SQL filter's slack): a borderline trip
    counts as servable and waits for a drone, bounded by the workflow's no-drone deadline."""
    if not Drone.objects.exists():
        return True
    trip_km = (
        _approx_km(F("home_latitude"), F("home_longitude"), pickup)
        + Value(distance_km(pickup, dropoff))
        + _approx_km(F("home_latitude"), F("home_longitude"), dropoff)
    )
    reserve = 1 + settings.DRONE_BATTERY_RESERVE
    return (
        Drone.objects.filter(max_payload_kg__gte=weight_kg, max_package_size__gte=size)
        .annotate(
            trip_km=ExpressionWrapper(
                trip_km * Value(reserve * BATTERY_FILTER_SLACK), output_field=FloatField()
            )
        )
        .filter(range_km__gte=F("trip_km"))
        .exists()
    )


def nearest_available_drone(
    pickup: Location,
    dropoff: Location,
    weight_kg: float,
    size: int,
    excluding: list[str],
    lock: bool = True,
) -> Drone | None:
    """The first of `available_drones_by_distance`, found without reading the whole fleet: it is
    looked for within SEARCH_RADII_KM of the pickup, widening, and only then everywhere. A drone
    found within a radius is the nearest of all (any drone outside is farther). With `lock`, it
    is locked until the caller's transaction ends, skipping drones other transactions hold."""
    for radius in (*SEARCH_RADII_KM, None):
        sql = _nearest_sql(connection.vendor, radius is not None, len(excluding), lock)
        params = _nearest_params(pickup, dropoff, weight_kg, size, radius, excluding)
        for drone in Drone.objects.raw(sql, params):
            return drone
    return None


# `available_drones_by_distance(...).exclude(pk__in=excluding).first()` (with its lock) written
# once as SQL: building that queryset anew for every radius of every assignment cost more CPU
# than running it. tests/dronescheduler/test_nearest_search.py holds the two to the same answer.
def _sq_degrees(lat: str, lon: str) -> str:
    """Squared flat-earth degrees to a point; params: lat, lat, lon, cos, lon, cos."""
    return f"(({lat} - %s) * ({lat} - %s) + (({lon} - %s) * %s) * (({lon} - %s) * %s))"


@lru_cache(maxsize=64)
def _nearest_sql(vendor: str, boxed: bool, excluded: int, lock: bool) -> str:
    trip_km = (
        f"((SQRT({_sq_degrees('latitude', 'longitude')}) * %s) + %s"
        f" + (SQRT({_sq_degrees('home_latitude', 'home_longitude')}) * %s)) * %s"
    )
    where = [
        "status = %s",
        "max_payload_kg >= %s",
        "max_package_size >= %s",
        f"((range_km * battery) / %s) >= ({trip_km})",
    ]
    if boxed:
        where += [
            "latitude BETWEEN %s AND %s",
            "longitude BETWEEN %s AND %s",
            f"{_sq_degrees('latitude', 'longitude')} <= %s",
        ]
    if excluded:
        where.append(f"NOT (id IN ({', '.join(['%s'] * excluded)}))")
    table = Drone._meta.db_table
    sql = (
        f"SELECT * FROM {table} WHERE {' AND '.join(where)}"
        f" ORDER BY {_sq_degrees('latitude', 'longitude')} ASC, id ASC LIMIT 1"
    )
    if lock and vendor == "postgresql":  # SQLite has no row locks: its writers take turns
        sql += f" FOR UPDATE OF {table} SKIP LOCKED"
    return sql


def _nearest_params(
    pickup: Location,
    dropoff: Location,
    weight_kg: float,
    size: int,
    radius: float | None,
    excluding: list[str],
) -> list[Any]:
    def sq_params(to: Location) -> list[float]:
        cos_lat = math.cos(math.radians(to.latitude))
        return [to.latitude, to.latitude, to.longitude, cos_lat, to.longitude, cos_lat]

    reserve = 1 + settings.DRONE_BATTERY_RESERVE
    params: list[Any] = [DroneStatus.AVAILABLE.value, weight_kg, size, 100.0]
    params += [*sq_params(pickup), KM_PER_DEGREE, distance_km(pickup, dropoff)]
    params += [*sq_params(dropoff), KM_PER_DEGREE, reserve * BATTERY_FILTER_SLACK]
    if radius is not None:
        reach = radius / KM_PER_DEGREE  # in degrees of latitude
        cos_lat = math.cos(math.radians(pickup.latitude))
        params += [pickup.latitude - reach, pickup.latitude + reach]
        params += [pickup.longitude - reach / cos_lat, pickup.longitude + reach / cos_lat]
        params += [*sq_params(pickup), reach * reach]
    return [*params, *excluding, *sq_params(pickup)]


def get_drone(drone_id: str) -> Drone:
    found = Drone.objects.filter(pk=drone_id).first()
    if found is None:
        raise DroneNotFound(f"There is no drone {drone_id}.")
    return found


def is_assigned(delivery_id: str) -> bool:
    """Whether `delivery_id` has an assignment (released or not), as SQL written once: the
    assignment asks it inside its transaction, where an ORM query's construction cost more than
    running it."""
    with connection.cursor() as cursor:
        cursor.execute(_IS_ASSIGNED_SQL, [delivery_id])
        return cursor.fetchone() is not None


_IS_ASSIGNED_SQL = f"SELECT 1 FROM {DroneDelivery._meta.db_table} WHERE delivery_id = %s"


def get_drone_delivery(delivery_id: str) -> DroneDelivery:
    found = (
        DroneDelivery.objects.select_related("drone", "flight")
        .filter(delivery_id=delivery_id)
        .first()
    )
    if found is None:
        raise DroneDeliveryNotFound.unassigned(delivery_id)
    return found


def current_delivery(drone: Drone) -> DroneDelivery | None:
    """The delivery a drone is assigned to or flying for, if any."""
    return (
        drone.deliveries.filter(
            stage__in=[
                DroneDelivery.Stage.ASSIGNED,
                DroneDelivery.Stage.HEADED_TO_PICKUP,
                DroneDelivery.Stage.HEADED_TO_DROPOFF,
            ]
        )
        .order_by("-assigned_at")
        .first()
    )


def flights_in_the_air() -> QuerySet[Flight]:
    return Flight.objects.exclude(phase=Flight.Phase.LANDED)


@dataclass(frozen=True)
class Utilization:
    traveled_miles: float
    assigned_hours: float


def utilization(owner_id: str, start: datetime, end: datetime) -> Utilization:
    """Miles flown and hours drones were assigned, for `owner_id`'s flights assigned in
    [start, end). Flights still under way count up to their last tick."""
    totals = Flight.objects.filter(
        owner_id=owner_id, assigned_at__gte=start, assigned_at__lt=end
    ).aggregate(km=Sum("traveled_km"), hours=Sum("assigned_hours"))
    return Utilization(
        traveled_miles=round((totals["km"] or 0.0) / KM_PER_MILE, 3),
        assigned_hours=round(totals["hours"] or 0.0, 3),
    )


def drones_by_status() -> dict[str, int]:
    """How many drones are in each status (every status, zero included)."""
    counts = dict(Drone.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {status: counts.get(status, 0) for status in DroneStatus.values}
