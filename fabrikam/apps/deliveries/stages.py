"""The contract's enums (API.md "Shared types") and which stages allow what."""

from django.db import models


class DeliveryStage(models.TextChoices):
    CREATED = "Created"
    RESCHEDULED = "Rescheduled"
    HEADED_TO_PICKUP = "HeadedToPickup"
    HEADED_TO_DROPOFF = "HeadedToDropoff"
    COMPLETED = "Completed"
    CANCELLED = "Cancelled"


class ConfirmationType(models.TextChoices):
    FINGERPRINT = "FingerPrint"
    PICTURE = "Picture"
    VOICE = "Voice"
    NONE = "None"


# The stages the drone scheduler reports from a flight (POST .../tracking).
FLIGHT_STAGES = (
    DeliveryStage.HEADED_TO_PICKUP,
    DeliveryStage.HEADED_TO_DROPOFF,
    DeliveryStage.COMPLETED,
)
FLIGHT_STAGE_CHOICES = [(stage.value, stage.label) for stage in FLIGHT_STAGES]
# A delivery in one of these no longer changes (PUT/PATCH are 409, tracking is ignored).
CLOSED_STAGES = (DeliveryStage.COMPLETED, DeliveryStage.CANCELLED)
# Pickup, drop-off and deadline can change until the drone has the package.
RESCHEDULABLE_STAGES = (
    DeliveryStage.CREATED,
    DeliveryStage.RESCHEDULED,
    DeliveryStage.HEADED_TO_PICKUP,
)
