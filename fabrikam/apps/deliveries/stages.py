"""Which delivery stages (the contract's `DeliveryStage`) allow what."""

from fabrikam.contract.enums import DeliveryStage

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
