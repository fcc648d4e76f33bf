"""The flight simulation: each tick moves every flying drone along its legs at its speed.

A flight is a chain of straight legs, pickup → dropoff → home; where a drone is follows from when
its leg started, so a tick computes positions from the clock it is given (`now`) rather than from
how often it runs. Ticks are safe to overlap or repeat: one lease row lets a single tick run at a
time, each flight row is locked while it advances, and a tick older than the flight's last one
changes nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fabrikam.apps.dronescheduler import tracking
from fabrikam.apps.dronescheduler.models import (
    Drone,
    DroneDelivery,
    DroneStatus,
    Flight,
    TickLease,
    TrackingUpdate,
)
from fabrikam.contract.geo import Location, distance_km, interpolate

logger = logging.getLogger(__name__)
Phase = Flight.Phase
Stage = DroneDelivery.Stage
LEASE = timedelta(seconds=60)


def flying_time(km: float, speed_kmh: float) -> timedelta:
    """Real time to fly `km`, at FLIGHT_TIME_SCALE times real speed."""
    return timedelta(hours=km / speed_kmh / settings.FLIGHT_TIME_SCALE)


def simulated_hours(elapsed: timedelta) -> float:
    return elapsed.total_seconds() * settings.FLIGHT_TIME_SCALE / 3600


@dataclass(frozen=True)
class Leg:
    origin: Location
    target: Location
    started_at: datetime
    km: float
    arrives_at: datetime

    def position(self, now: datetime) -> Location:
        total = (self.arrives_at - self.started_at).total_seconds()
        done = (now - self.started_at).total_seconds()
        return interpolate(self.origin, self.target, done / total if total > 0 else 1.0)

    def flown_km(self, now: datetime) -> float:
        return distance_km(self.origin, self.position(now))


def current_leg(flight: Flight) -> Leg:
    targets = {
        Phase.TO_PICKUP: flight.delivery.pickup,
        Phase.TO_DROPOFF: flight.delivery.dropoff,
        Phase.TO_HOME: flight.drone.home,
    }
    target = targets[flight.phase]
    km = distance_km(flight.leg_origin, target)
    started = flight.leg_started_at
    assert started is not None, "a flying leg has a start time"
    return Leg(
        flight.leg_origin, target, started, km, started + flying_time(km, flight.drone.speed_kmh)
    )


def advance_flight(flight: Flight, now: datetime) -> list[TrackingUpdate]:
    """Bring `flight` (with its delivery and drone) to `now`; returns the tracking updates to send.
    Changes the objects in memory only; `save()` writes them."""
    if flight.phase == Phase.LANDED or (flight.ticked_at and now <= flight.ticked_at):
        return []
    delivery, drone = flight.delivery, flight.drone
    updates: list[TrackingUpdate] = []
    if flight.phase == Phase.WAITING:
        flight.phase = Phase.TO_PICKUP
        flight.departed_at = flight.leg_started_at = now
        flight.leg_origin = drone.position
        flight.battery_at_departure = drone.battery
        drone.status = DroneStatus.IN_FLIGHT
        delivery.stage = Stage.HEADED_TO_PICKUP
        updates.append(_update(flight, drone.position, now, milestone=True))
    while flight.phase != Phase.LANDED:
        leg = current_leg(flight)
        if leg.arrives_at > now:
            break
        flight.finished_legs_km += leg.km
        flight.leg_origin, flight.leg_started_at = leg.target, leg.arrives_at
        if flight.phase == Phase.TO_PICKUP:
            flight.phase = Phase.TO_DROPOFF
            delivery.stage = Stage.HEADED_TO_DROPOFF
            delivery.picked_up_at = leg.arrives_at
            updates.append(_update(flight, leg.target, leg.arrives_at, milestone=True))
        elif flight.phase == Phase.TO_DROPOFF:
            flight.phase = Phase.TO_HOME
            delivery.stage = Stage.COMPLETED
            delivery.completed_at = leg.arrives_at
            updates.append(_update(flight, leg.target, leg.arrives_at, milestone=True))
        else:
            _land(flight, leg.arrives_at)
    if flight.phase == Phase.LANDED:
        position, flight.traveled_km = drone.home, flight.finished_legs_km
    else:
        leg = current_leg(flight)
        position = leg.position(now)
        flight.traveled_km = flight.finished_legs_km + leg.flown_km(now)
    drone.position = position
    drone.battery = max(
        0.0, flight.battery_at_departure - 100 * flight.traveled_km / drone.range_km
    )
    flight.assigned_hours = simulated_hours((flight.landed_at or now) - flight.assigned_at)
    flight.ticked_at = now
    in_progress = delivery.stage in (Stage.HEADED_TO_PICKUP, Stage.HEADED_TO_DROPOFF)
    if in_progress and not (updates and updates[-1].timestamp == now):
        updates.append(_update(flight, position, now))
    if in_progress or updates:
        delivery.pickup_eta, delivery.delivery_eta = _etas(flight)
    return updates


def _land(flight: Flight, at: datetime) -> None:
    flight.phase = Phase.LANDED
    flight.landed_at = at
    flight.drone.status = DroneStatus.CHARGING
    flight.drone.battery_at = at


def land_unflown(flight: Flight, now: datetime) -> None:
    """A flight released before it took off: the drone never left and is available again."""
    flight.phase = Phase.LANDED
    flight.landed_at = flight.ticked_at = now
    flight.assigned_hours = simulated_hours(now - flight.assigned_at)
    flight.drone.status = DroneStatus.AVAILABLE


def turn_home(flight: Flight, now: datetime) -> None:
    """Abandon the delivery where the drone is (after `advance_flight` to `now`) and fly home."""
    leg = current_leg(flight)
    flight.finished_legs_km += leg.flown_km(now)
    flight.leg_origin, flight.leg_started_at = leg.position(now), now
    flight.phase = Phase.TO_HOME


def _etas(flight: Flight) -> tuple[datetime, datetime]:
    delivery, drone = flight.delivery, flight.drone
    if flight.phase == Phase.TO_PICKUP:
        pickup_eta = current_leg(flight).arrives_at
        to_dropoff = flying_time(distance_km(delivery.pickup, delivery.dropoff), drone.speed_kmh)
        return pickup_eta, pickup_eta + to_dropoff
    if flight.phase == Phase.TO_DROPOFF:
        assert delivery.picked_up_at is not None
        return delivery.picked_up_at, current_leg(flight).arrives_at
    assert delivery.picked_up_at is not None
    assert delivery.completed_at is not None
    return delivery.picked_up_at, delivery.completed_at


def _update(
    flight: Flight, position: Location, at: datetime, milestone: bool = False
) -> TrackingUpdate:
    pickup_eta, delivery_eta = _etas(flight)
    return TrackingUpdate(
        delivery_id=flight.delivery.delivery_id,
        stage=flight.delivery.stage,
        latitude=position.latitude,
        longitude=position.longitude,
        altitude=position.altitude,
        pickup_eta=pickup_eta,
        delivery_eta=delivery_eta,
        timestamp=at,
        milestone=milestone,
    )


def save(flight: Flight) -> None:
    flight.save()
    flight.delivery.save()
    flight.drone.save()


@dataclass(frozen=True)
class TickReport:
    skipped: bool = False
    advanced: int = 0
    charged: int = 0
    pushed: int = 0
    push_failures: int = 0


def advance_flights(now: datetime | None = None) -> TickReport:
    """One tick: advance every flight to `now`, charge landed drones, send the tracking updates.
    Skips (and says so) when another tick holds the lease."""
    now = now or timezone.now()
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    if not _take_lease(holder):
        logger.info("another tick is advancing the flights; skipping this one")
        return TickReport(skipped=True)
    try:
        advanced = sum(
            _advance_one(pk, now)
            for pk in Flight.objects.exclude(phase=Phase.LANDED).values_list("pk", flat=True)
        )
        charged = charge_drones(now)
        pushed = tracking.push_pending()
    finally:
        _drop_lease(holder)
    return TickReport(False, advanced, charged, pushed.sent, pushed.failed)


def _advance_one(flight_pk: int, now: datetime) -> int:
    with transaction.atomic():
        flight = (
            Flight.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("delivery", "drone")
            .exclude(phase=Phase.LANDED)
            .filter(pk=flight_pk)
            .first()
        )
        if flight is None:  # landed meanwhile, or a release holds it
            return 0
        updates = advance_flight(flight, now)
        save(flight)
        tracking.enqueue(updates)
        return 1


def charge_drones(now: datetime) -> int:
    """Charge every landed drone for the time since its battery was last updated; a full one is
    available again. Returns how many drones were charged."""
    full_hours = settings.DRONE_FULL_CHARGE_MINUTES / 60
    charged = 0
    with transaction.atomic():
        for drone in Drone.objects.select_for_update(skip_locked=True).filter(
            status=DroneStatus.CHARGING
        ):
            since = drone.battery_at or now
            if now <= since:
                continue
            drone.battery = min(
                100.0, drone.battery + 100 * simulated_hours(now - since) / full_hours
            )
            drone.battery_at = now
            if drone.battery >= 100:
                drone.status = DroneStatus.AVAILABLE
            drone.save(update_fields=["battery", "battery_at", "status", "updated_at"])
            charged += 1
    return charged


def _take_lease(holder: str) -> bool:
    clock = timezone.now()
    TickLease.objects.bulk_create(
        [TickLease(pk=1, holder="", expires_at=clock)], ignore_conflicts=True
    )
    return bool(
        TickLease.objects.filter(pk=1, expires_at__lte=clock).update(
            holder=holder, expires_at=clock + LEASE
        )
    )


def _drop_lease(holder: str) -> None:
    TickLease.objects.filter(pk=1, holder=holder).update(holder="", expires_at=timezone.now())


def redirect(flight: Flight, now: datetime) -> None:
    """Start a new leg from where the drone is (after `advance_flight` to `now`), towards whatever
    the delivery's pickup or dropoff now is."""
    if flight.phase in (Phase.TO_PICKUP, Phase.TO_DROPOFF):
        leg = current_leg(flight)
        flight.finished_legs_km += leg.flown_km(now)
        flight.leg_origin, flight.leg_started_at = leg.position(now), now


def progress_update(flight: Flight, now: datetime) -> TrackingUpdate:
    """A position report with the ETAs of the flight as it is now."""
    flight.delivery.pickup_eta, flight.delivery.delivery_eta = _etas(flight)
    return _update(flight, flight.drone.position, now)
