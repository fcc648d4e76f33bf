"""The contract's enums that more than one context reads (API.md "Shared types")."""

from django.db import models


class DeliveryStage(models.TextChoices):
    """Where a delivery is: the deliveries service stores it, the drone scheduler reports the
    flight stages, the workflow stores a request that ended unscheduled as Cancelled."""

    CREATED = "Created"
    RESCHEDULED = "Rescheduled"
    HEADED_TO_PICKUP = "HeadedToPickup"
    HEADED_TO_DROPOFF = "HeadedToDropoff"
    COMPLETED = "Completed"
    CANCELLED = "Cancelled"


class ConfirmationType(models.TextChoices):
    """How the recipient confirms a handover: asked for at ingestion, checked by deliveries."""

    FINGERPRINT = "FingerPrint"
    PICTURE = "Picture"
    VOICE = "Voice"
    NONE = "None"
