from __future__ import annotations

from django.db import models


class PackageSize(models.TextChoices):
    SMALL = "Small"
    MEDIUM = "Medium"
    LARGE = "Large"


class DeliveryState(models.TextChoices):
    """Where the package is in the delivery flow, as the workflow reports it."""

    REGISTERED = "Registered"
    IN_DELIVERY = "InDelivery"
    DELIVERED = "Delivered"
    NOT_IN_DELIVERY = "NotInDelivery"  # a delivery that included it was cancelled or compensated


class Package(models.Model):
    """A package; stored on the `packages` database alias (MongoDB API, or the SQL default DB)."""

    id = models.CharField(primary_key=True, max_length=128)
    size = models.CharField(max_length=8, choices=PackageSize.choices)
    weight = models.FloatField(help_text="kilograms")
    tag = models.CharField(max_length=100, blank=True, default="")
    owner_id = models.CharField(max_length=128, db_index=False)
    delivery_state = models.CharField(
        max_length=16, choices=DeliveryState.choices, default=DeliveryState.REGISTERED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["owner_id", "created_at"], name="package_owner_created")]

    def __str__(self) -> str:
        return self.id
