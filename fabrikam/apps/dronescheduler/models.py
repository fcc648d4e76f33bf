from __future__ import annotations

from typing import Any

from django.db import models

from fabrikam.contract import bodies
from fabrikam.contract.geo import KM_PER_MILE, Location


class DroneStatus(models.TextChoices):
    AVAILABLE = "available"
    ASSIGNED = "assigned"  # waiting on the ground for the scheduler to launch it
    IN_FLIGHT = "in_flight"
    CHARGING = "charging"
    MAINTENANCE = "maintenance"


class PackageSize(models.IntegerChoices):
    """Ordered so that "can carry" is a comparison."""

    SMALL = 1, "Small"
    MEDIUM = 2, "Medium"
    LARGE = 3, "Large"

    @classmethod
    def parse(cls, label: str) -> PackageSize:
        for member in cls:
            if member.label.lower() == label.lower():
                return member
        raise ValueError(f"unknown package size {label!r}")


class Drone(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    model = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=DroneStatus.choices, default=DroneStatus.AVAILABLE
    )
    latitude = models.FloatField()
    longitude = models.FloatField()
    altitude = models.FloatField(default=0)
    battery = models.FloatField(default=100, help_text="percent of a full charge")
    battery_at = models.DateTimeField(
        null=True, blank=True, help_text="when the battery level was last brought up to date"
    )
    range_km = models.FloatField(default=30, help_text="distance on a full charge")
    max_payload_kg = models.FloatField(default=5)
    max_package_size = models.PositiveSmallIntegerField(
        choices=PackageSize.choices, default=PackageSize.MEDIUM
    )
    speed_kmh = models.FloatField(default=60)
    home_latitude = models.FloatField()
    home_longitude = models.FloatField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["status"], name="drone_status"),
            # the nearest-drone search reads a box around the pickup (selectors)
            models.Index(fields=["status", "latitude", "longitude"], name="drone_status_position"),
        ]

    def __str__(self) -> str:
        return self.id

    @property
    def position(self) -> Location:
        return Location(self.latitude, self.longitude, self.altitude)

    @position.setter
    def position(self, location: Location) -> None:
        self.latitude, self.longitude, self.altitude = (
            location.latitude,
            location.longitude,
            location.altitude,
        )

    @property
    def home(self) -> Location:
        return Location(self.home_latitude, self.home_longitude)


class DroneDelivery(models.Model):
    """A drone's assignment to one delivery, and where its flight stands."""

    class Stage(models.TextChoices):
        ASSIGNED = "Assigned"
        HEADED_TO_PICKUP = "HeadedToPickup"
        HEADED_TO_DROPOFF = "HeadedToDropoff"
        COMPLETED = "Completed"
        RELEASED = "Released"

    delivery_id = models.CharField(max_length=64, unique=True)
    drone = models.ForeignKey(Drone, on_delete=models.PROTECT, related_name="deliveries")
    owner_id = models.CharField(max_length=128)
    pickup_latitude = models.FloatField()
    pickup_longitude = models.FloatField()
    dropoff_latitude = models.FloatField()
    dropoff_longitude = models.FloatField()
    package_details = models.JSONField(default=list)
    expedited = models.BooleanField(default=False)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.ASSIGNED)
    assigned_at = models.DateTimeField(auto_now_add=True)
    pickup_eta = models.DateTimeField(null=True, blank=True)
    delivery_eta = models.DateTimeField(null=True, blank=True)
    picked_up_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "drone deliveries"
        indexes = [models.Index(fields=["stage"], name="dronedelivery_stage")]

    def __str__(self) -> str:
        return f"{self.delivery_id} → {self.drone_id}"

    @property
    def pickup(self) -> Location:
        return Location(self.pickup_latitude, self.pickup_longitude)

    @property
    def dropoff(self) -> Location:
        return Location(self.dropoff_latitude, self.dropoff_longitude)


class Flight(models.Model):
    """One drone's trip for one delivery: home (or wherever it was) → pickup → dropoff → home.

    The flight is simulated one straight leg at a time: the drone left `leg_origin` at
    `leg_started_at` and flies towards the phase's target at its speed. It is also the record
    utilization is summed from.
    """

    class Phase(models.TextChoices):
        WAITING = "Waiting", "waiting to take off"
        TO_PICKUP = "ToPickup", "flying to the pickup"
        TO_DROPOFF = "ToDropoff", "flying to the dropoff"
        TO_HOME = "ToHome", "returning home"
        LANDED = "Landed", "landed"

    delivery = models.OneToOneField(DroneDelivery, on_delete=models.PROTECT, related_name="flight")
    drone = models.ForeignKey(Drone, on_delete=models.PROTECT, related_name="flights")
    owner_id = models.CharField(max_length=128)
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.WAITING)
    assigned_at = models.DateTimeField()
    departed_at = models.DateTimeField(null=True, blank=True)
    landed_at = models.DateTimeField(null=True, blank=True)
    leg_origin_latitude = models.FloatField()
    leg_origin_longitude = models.FloatField()
    leg_started_at = models.DateTimeField(null=True, blank=True)
    finished_legs_km = models.FloatField(default=0)
    traveled_km = models.FloatField(default=0)
    assigned_hours = models.FloatField(default=0, help_text="simulated hours since assignment")
    battery_at_departure = models.FloatField(default=100)
    ticked_at = models.DateTimeField(null=True, blank=True, help_text="the last tick applied")

    class Meta:
        indexes = [
            models.Index(fields=["owner_id", "assigned_at"], name="flight_owner_month"),
            models.Index(fields=["phase"], name="flight_phase"),
        ]

    def __str__(self) -> str:
        return f"{self.drone_id} for {self.delivery.delivery_id} ({self.get_phase_display()})"

    @property
    def leg_origin(self) -> Location:
        return Location(self.leg_origin_latitude, self.leg_origin_longitude)

    @leg_origin.setter
    def leg_origin(self, location: Location) -> None:
        self.leg_origin_latitude, self.leg_origin_longitude = location.latitude, location.longitude

    @property
    def traveled_miles(self) -> float:
        return self.traveled_km / KM_PER_MILE


class TrackingUpdate(models.Model):
    """Outbox of flight updates for the delivery service, sent oldest first.

    Written in the same transaction as the flight's progress, deleted once the delivery service
    accepted it, so an update survives the delivery service being down. Milestones (stage
    changes) are all kept; of the position reports only the newest waiting one is.
    """

    delivery_id = models.CharField(max_length=64, db_index=True)
    stage = models.CharField(max_length=16)
    latitude = models.FloatField()
    longitude = models.FloatField()
    altitude = models.FloatField(default=0)
    pickup_eta = models.DateTimeField()
    delivery_eta = models.DateTimeField()
    timestamp = models.DateTimeField()
    milestone = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.stage} at {self.timestamp:%H:%M:%S}"

    def as_payload(self) -> bodies.TrackingUpdate:
        """The body of `POST /api/deliveries/{id}/tracking` (API.md)."""
        return {
            "stage": self.stage,
            "location": Location(self.latitude, self.longitude, self.altitude).as_dict(),
            "pickupETA": _iso(self.pickup_eta),
            "deliveryETA": _iso(self.delivery_eta),
            "timestamp": _iso(self.timestamp),
        }


class TickLease(models.Model):
    """One row: who is advancing flights now, so overlapping ticks do not both run."""

    holder = models.CharField(max_length=128, blank=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.holder or 'nobody'} until {self.expires_at:%H:%M:%S}"


def _iso(moment: Any) -> str:
    return moment.isoformat().replace("+00:00", "Z")
