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
