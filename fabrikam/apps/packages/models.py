from __future__ import annotations

from django.db import models
from django.utils import timezone


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

    # `_id` so that on MongoDB the package id is the document's own key (one unique index, the
    # built-in one); SQL databases take the name as it is.
    id = models.CharField(primary_key=True, max_length=128, db_column="_id")
    size = models.CharField(max_length=8, choices=PackageSize.choices)
    weight = models.FloatField(help_text="kilograms")
    tag = models.CharField(max_length=100, blank=True, default="")
    owner_id = models.CharField(max_length=128, db_index=False)
    delivery_state = models.CharField(
        max_length=16, choices=DeliveryState.choices, default=DeliveryState.REGISTERED
    )
    # Registration time, which the owner summary groups by; a default rather than auto_now_add so
    # that imports and tests can give the real one.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Serves the owner summary: equality on the owner, a range on the registration time.
        indexes = [models.Index(fields=["owner_id", "created_at"], name="package_owner_created")]

    def __str__(self) -> str:
        return self.id
