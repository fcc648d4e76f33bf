"""What a package is, as ingestion accepts it, the workflow passes it on and the package service
and the drone scheduler store it (API.md "Packages")."""

from django.db import models

MAX_WEIGHT_KG = 100.0  # the heaviest payload in the fleet; anything above is a client error


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
