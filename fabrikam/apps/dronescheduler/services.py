"""Assigning drones to deliveries, releasing them, and taking drones in and out of service."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from fabrikam.apps.dronescheduler import flights, selectors, tracking
from fabrikam.apps.dronescheduler.exceptions import (
    AssignmentReleased,
    DeliveryNotReplannable,
    DroneBusy,
    DroneDeliveryNotFound,
    DroneNotFound,
    NoDroneAvailable,
    Unserviceable,
)
from fabrikam.apps.dronescheduler.models import (
    Drone,
    DroneDelivery,
    DroneStatus,
    Flight,
    PackageSize,
)
from fabrikam.contract.geo import Location, distance_km

# Drones the SQL battery filter let through but the exact check refused, before giving up.
MAX_REFUSED_CANDIDATES = 10


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

    @property
    def weight_kg(self) -> float:
        return sum(p.weight for p in self.packages)

    @property
    def size(self) -> PackageSize:
        return max((PackageSize.parse(p.size) for p in self.packages), default=PackageSize.SMALL)


def trip_km(drone: Drone, pickup: Location, dropoff: Location) -> float:
    """Drone → pickup → dropoff → home."""
    return (
        distance_km(drone.position, pickup)
        + distance_km(pickup, dropoff)
        + distance_km(dropoff, drone.home)
    )


def has_battery_for(drone: Drone, km: float) -> bool:
    """Whether the drone flies `km` and still has the reserve (DRONE_BATTERY_RESERVE) left."""
    return drone.range_km * drone.battery / 100 >= km * (1 + settings.DRONE_BATTERY_RESERVE)


def estimate_etas(
    drone: Drone, pickup: Location, dropoff: Location, start: datetime
) -> tuple[datetime, datetime]:
    pickup_eta = start + flights.flying_time(distance_km(drone.position, pickup), drone.speed_kmh)
    return pickup_eta, pickup_eta + flights.flying_time(
        distance_km(pickup, dropoff), drone.speed_kmh
    )


def assign_drone(request: AssignmentRequest) -> DroneDelivery:
    """The nearest available drone that can carry the packages and fly the whole trip.

    Idempotent: the same delivery id gets its existing assignment back. Two concurrent callers never
    get the same drone: on PostgreSQL each locks the one candidate it takes (FOR UPDATE SKIP
    LOCKED), so the others pass over it; SQLite transactions begin IMMEDIATE (settings), so
    writers take turns.
    """
    try:
        return _assign_nearest(request)  # a repeat finds its assignment in there
    except IntegrityError:
        # A concurrent call for the same delivery won; its assignment is the answer.
        return selectors.get_drone_delivery(request.delivery_id)


def _unless_released(assignment: DroneDelivery) -> DroneDelivery:
    if assignment.stage == DroneDelivery.Stage.RELEASED:
        raise AssignmentReleased(
            f"Delivery {assignment.delivery_id}'s drone was released (cancelled or compensated); "
            "a released delivery is not flown again: request a new delivery."
        )
    return assignment


def _assign_nearest(request: AssignmentRequest) -> DroneDelivery:
    # Inside the transaction as little as can be: on SQLite every writer waits for it to end.
    with transaction.atomic():
        _one_call_per_delivery(request.delivery_id)
        if selectors.is_assigned(request.delivery_id):
            return _unless_released(selectors.get_drone_delivery(request.delivery_id))
        try:
            drone = take_nearest_fitting(request)
        except NoDroneAvailable:
            _refuse_if_unserviceable(request)
            raise
        now = timezone.now()
        pickup_eta, delivery_eta = estimate_etas(drone, request.pickup, request.dropoff, now)
        drone.status = DroneStatus.ASSIGNED
        drone.updated_at = now
        _set_status(drone.pk, DroneStatus.ASSIGNED, now)
        delivery = DroneDelivery(
            delivery_id=request.delivery_id,
            drone=drone,
            owner_id=request.owner_id,
            pickup_latitude=request.pickup.latitude,
            pickup_longitude=request.pickup.longitude,
            dropoff_latitude=request.dropoff.latitude,
            dropoff_longitude=request.dropoff.longitude,
            package_details=[asdict(p) for p in request.packages],
            expedited=request.expedited,
            pickup_eta=pickup_eta,
            delivery_eta=delivery_eta,
        )
        _insert(delivery)
        flight = Flight(
            delivery=delivery,
            drone=drone,
            owner_id=request.owner_id,
            assigned_at=now,
            leg_origin_latitude=drone.latitude,
            leg_origin_longitude=drone.longitude,
            battery_at_departure=drone.battery,
        )
        _insert(flight)
        return delivery


def _set_status(drone_id: str, status: DroneStatus, now: datetime) -> None:
    """`drone.save(update_fields=["status", "updated_at"])` as SQL written once: building the
    ORM's UPDATE cost more CPU than running it, inside the assignment's transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            _SET_STATUS_SQL,
            [status.value, connection.ops.adapt_datetimefield_value(now), drone_id],
        )


_SET_STATUS_SQL = f"UPDATE {Drone._meta.db_table} SET status = %s, updated_at = %s WHERE id = %s"


def _insert(row: models.Model) -> None:
    """`row.save()` for a new row (an auto id, no signal receivers) as SQL written once per
    model: inside the assignment's transaction, the ORM's INSERT construction cost more CPU than
    running it. Each field's value is prepared as `save()` prepares it (`auto_now_add`, JSON)."""
    sql, fields = _insert_statement(type(row))
    values = [field.get_db_prep_save(field.pre_save(row, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row.pk = cursor.fetchone()[0]
    row._state.adding = False
    row._state.db = connection.alias


@functools.cache
def _insert_statement(model: type[models.Model]) -> tuple[str, list[models.Field]]:
    fields = [field for field in model._meta.concrete_fields if field is not model._meta.auto_field]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(model._meta.pk.column)}"
    )
    return sql, fields


def _refuse_if_unserviceable(request: AssignmentRequest) -> None:
    if not selectors.fleet_can_serve(
        request.pickup, request.dropoff, request.weight_kg, request.size
    ):
        raise Unserviceable(
            f"No drone of the fleet can carry {request.weight_kg:g} kg ({request.size.label}) "
            "from the pickup to the dropoff and fly home with its battery reserve; waiting will "
            "not help.",
            weightKg=request.weight_kg,
            size=request.size.label,
        )


def _one_call_per_delivery(delivery_id: str) -> None:
    """Make concurrent calls for one delivery take turns until the transaction ends, so a repeat
    waits for the first call's drone instead of finding every drone locked and answering 409.
    (SQLite transactions already take turns.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"dronedelivery:{delivery_id}"],
            )


def take_nearest_fitting(request: AssignmentRequest, excluding: str | None = None) -> Drone:
    """The nearest available drone that can carry the load and fly the trip with its reserve,
    locked until the caller's transaction ends (call inside one); NoDroneAvailable if none."""
    refused: list[str] = [excluding] if excluding else []
    while len(refused) <= MAX_REFUSED_CANDIDATES:
        # One candidate at a time: locking more would hide them from concurrent callers.
        drone = selectors.nearest_available_drone(
            request.pickup, request.dropoff, request.weight_kg, request.size, excluding=refused
        )
        if drone is None:
            break
        if has_battery_for(drone, trip_km(drone, request.pickup, request.dropoff)):
            return drone
        refused.append(drone.pk)
    raise NoDroneAvailable(
        f"No available drone can carry {request.weight_kg:g} kg ({request.size.label}) "
        "to the dropoff and fly home with its battery reserve; try again later."
    )


def _locked_flight(delivery_id: str) -> Flight:
    """The delivery's flight, locked until the caller's transaction ends (call inside one)."""
    flight = (
        Flight.objects.select_for_update(of=("self",))
        .select_related("delivery", "drone")
        .filter(delivery__delivery_id=delivery_id)
        .first()
    )
    if flight is None:
        selectors.get_drone_delivery(delivery_id)  # raises DroneDeliveryNotFound
        raise DroneDeliveryNotFound(f"Delivery {delivery_id} has no flight.")
    return flight


def release_drone(delivery_id: str, now: datetime | None = None) -> DroneDelivery:
    """Free the drone assigned to `delivery_id` (cancel or the saga's compensation). Idempotent.

    A drone still on the ground is available at once; one in the air turns for home from where it
    is. A delivery already completed keeps its record; the drone is on its way home anyway.
    """
    now = now or timezone.now()
    with transaction.atomic():
        flight = _locked_flight(delivery_id)
        delivery = flight.delivery
        if delivery.stage in (DroneDelivery.Stage.RELEASED, DroneDelivery.Stage.COMPLETED):
            return delivery
        if flight.phase == Flight.Phase.WAITING:
            flights.land_unflown(flight, now)
        else:
            tracking.enqueue(flights.advance_flight(flight, now))
            if delivery.stage == DroneDelivery.Stage.COMPLETED:  # it arrived before the release
                flights.save(flight)
                return delivery
            flights.turn_home(flight, now)
        delivery.stage = DroneDelivery.Stage.RELEASED
        delivery.released_at = now
        flights.save(flight)
        tracking.discard(delivery_id)
        return delivery


def replan_delivery(
    delivery_id: str,
    pickup: Location | None = None,
    dropoff: Location | None = None,
    now: datetime | None = None,
) -> DroneDelivery:
    """Change where the drone picks up or drops off (a rescheduled delivery) and recompute the
    ETAs; a drone in the air turns towards the new point from where it is.

    Refused (DeliveryNotReplannable) once it is too late: a new pickup after the package was
    picked up, anything after the delivery completed or was released, or a route the drone's
    battery cannot fly with its reserve."""
    now = now or timezone.now()
    with transaction.atomic():
        flight = _locked_flight(delivery_id)
        delivery, drone = flight.delivery, flight.drone
        tracking.enqueue(flights.advance_flight(flight, now))
        if delivery.stage in (DroneDelivery.Stage.RELEASED, DroneDelivery.Stage.COMPLETED):
            flights.save(flight)
            raise DeliveryNotReplannable(
                f"Delivery {delivery_id} is {delivery.stage.lower()}; its route cannot change."
            )
        if pickup is not None and flight.phase not in (
            Flight.Phase.WAITING,
            Flight.Phase.TO_PICKUP,
        ):
            flights.save(flight)
            raise DeliveryNotReplannable(
                f"Delivery {delivery_id}'s package was already picked up; "
                "only the dropoff can change."
            )
        new_pickup = pickup or delivery.pickup
        new_dropoff = dropoff or delivery.dropoff
        still_to_fly = (
            distance_km(drone.position, new_dropoff) + distance_km(new_dropoff, drone.home)
            if flight.phase == Flight.Phase.TO_DROPOFF
            else trip_km(drone, new_pickup, new_dropoff)
        )
        if not has_battery_for(drone, still_to_fly):
            flights.save(flight)
            raise DeliveryNotReplannable(
                f"Drone {drone.pk} cannot fly the new route with its battery reserve."
            )
        flights.redirect(flight, now)
        delivery.pickup_latitude, delivery.pickup_longitude = (
            new_pickup.latitude,
            new_pickup.longitude,
        )
        delivery.dropoff_latitude, delivery.dropoff_longitude = (
            new_dropoff.latitude,
            new_dropoff.longitude,
        )
        if flight.phase == Flight.Phase.WAITING:
            delivery.pickup_eta, delivery.delivery_eta = estimate_etas(
                drone, new_pickup, new_dropoff, now
            )
        else:
            tracking.enqueue([flights.progress_update(flight, now)])
        flights.save(flight)
        return delivery


def reassign_delivery(delivery_id: str) -> DroneDelivery:
    """Move a delivery whose drone has not taken off yet to the next-best drone; its old drone is
    available again. Raises NoDroneAvailable (and changes nothing) when no other drone fits."""
    with transaction.atomic():
        flight = _locked_flight(delivery_id)
        if flight.phase != Flight.Phase.WAITING:
            raise DroneBusy(
                f"Delivery {delivery_id}'s drone {flight.drone_id} has already taken off "
                f"({flight.get_phase_display()}); only a delivery still waiting can move."
            )
        delivery, old = flight.delivery, flight.drone
        new = take_nearest_fitting(_request_of(delivery), excluding=old.pk)
        now = timezone.now()
        new.status = DroneStatus.ASSIGNED
        new.save(update_fields=["status", "updated_at"])
        Drone.objects.filter(pk=old.pk, status=DroneStatus.ASSIGNED).update(
            status=DroneStatus.AVAILABLE, updated_at=now
        )
        delivery.drone = new
        delivery.pickup_eta, delivery.delivery_eta = estimate_etas(
            new, delivery.pickup, delivery.dropoff, now
        )
        delivery.save(update_fields=["drone", "pickup_eta", "delivery_eta"])
        flight.drone = new
        flight.leg_origin = new.position
        flight.battery_at_departure = new.battery
        flight.save(
            update_fields=[
                "drone",
                "leg_origin_latitude",
                "leg_origin_longitude",
                "battery_at_departure",
            ]
        )
        return delivery


def _request_of(delivery: DroneDelivery) -> AssignmentRequest:
    return AssignmentRequest(
        delivery_id=delivery.delivery_id,
        owner_id=delivery.owner_id,
        pickup=delivery.pickup,
        dropoff=delivery.dropoff,
        packages=tuple(PackageDetail(**p) for p in delivery.package_details),
        expedited=delivery.expedited,
    )


def send_to_maintenance(drone_id: str, reassign: bool = False) -> Drone:
    """Take a drone out of service. A drone assigned to a delivery is only taken with
    `reassign=True`, which first moves its delivery to another drone; a drone in the air has to
    land first."""
    with transaction.atomic():
        drone = _locked_drone(drone_id)
        if drone.status == DroneStatus.MAINTENANCE:
            return drone
        if drone.status == DroneStatus.IN_FLIGHT:
            raise DroneBusy(f"Drone {drone_id} is in the air; send it to maintenance once landed.")
        if drone.status == DroneStatus.ASSIGNED:
            delivery = selectors.current_delivery(drone)
            if not reassign or delivery is None:
                raise DroneBusy(
                    f"Drone {drone_id} is assigned to delivery "
                    f"{delivery.delivery_id if delivery else '(unknown)'}: reassign the delivery "
                    "to another drone first (admin action “Reassign the delivery and send to "
                    "maintenance”)."
                )
            reassign_delivery(delivery.delivery_id)
            drone.refresh_from_db()
        drone.status = DroneStatus.MAINTENANCE
        drone.save(update_fields=["status", "updated_at"])
        return drone


def return_to_service(drone_id: str, now: datetime | None = None) -> Drone:
    """Back from maintenance: available, or charging first when the battery is not full."""
    with transaction.atomic():
        drone = _locked_drone(drone_id)
        if drone.status != DroneStatus.MAINTENANCE:
            return drone
        drone.status = DroneStatus.AVAILABLE if drone.battery >= 100 else DroneStatus.CHARGING
        drone.battery_at = now or timezone.now()
        drone.save(update_fields=["status", "battery_at", "updated_at"])
        return drone


def _locked_drone(drone_id: str) -> Drone:
    drone = Drone.objects.select_for_update().filter(pk=drone_id).first()
    if drone is None:
        raise DroneNotFound(f"There is no drone {drone_id}.")
    return drone
