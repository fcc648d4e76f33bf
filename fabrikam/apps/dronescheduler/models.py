from __future__ import annotations

from django.db import models

from fabrikam.geo import Location


class DroneStatus(models.TextChoices):
    AVAILABLE = "available"
    ASSIGNED = "assigned"
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
        indexes = [models.Index(fields=["status", "max_payload_kg"], name="drone_status_payload")]

    def __str__(self) -> str:
        return self.id

    @property
    def position(self) -> Location:
        return Location(self.latitude, self.longitude, self.altitude)

    @property
    def home(self) -> Location:
        return Location(self.home_latitude, self.home_longitude)


class DroneDelivery(models.Model):
    """A drone's assignment to one delivery, and the flight's progress."""

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
    completed_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "drone deliveries"

    def __str__(self) -> str:
        return f"{self.delivery_id} → {self.drone_id}"

    @property
    def pickup(self) -> Location:
        return Location(self.pickup_latitude, self.pickup_longitude)

    @property
    def dropoff(self) -> Location:
        return Location(self.dropoff_latitude, self.dropoff_longitude)
