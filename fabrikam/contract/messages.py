"""The queue message (API.md "Queue message"): ingestion publishes it as a Celery task named
TASK_NAME on the delivery-requests queue; the workflow worker consumes it.

The body is JSON, so times are ISO 8601 strings and locations plain objects. A consumer must
still check what it receives (the workflow's `messages.validate`): a queue accepts anything.
"""

from enum import StrEnum
from typing import Literal, NotRequired, TypedDict

# The Celery task the workflow worker registers under this name consumes these messages.
TASK_NAME = "workflow.handle_delivery_request"


class Operation(StrEnum):
    DELIVERY = "delivery"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"


DELIVERY = Operation.DELIVERY
CANCEL = Operation.CANCEL
RESCHEDULE = Operation.RESCHEDULE
OPERATIONS = tuple(operation.value for operation in Operation)


class LocationJson(TypedDict):
    """A `Location` (API.md "Shared types") as it is written in JSON."""

    latitude: float
    longitude: float
    altitude: NotRequired[float]


class PackageInfo(TypedDict):
    packageId: str
    size: str  # a PackageSize value
    weight: float  # kilograms
    tag: NotRequired[str]


class DeliveryMessage(TypedDict):
    operation: Literal[Operation.DELIVERY]
    deliveryId: str
    ownerId: str
    pickup: LocationJson
    dropoff: LocationJson
    pickupTime: str
    deadline: str | None
    expedited: bool
    confirmationRequired: str  # a ConfirmationType value
    packageInfo: PackageInfo


class RescheduleMessage(TypedDict):
    """Only the fields that change are present (at least one)."""

    operation: Literal[Operation.RESCHEDULE]
    deliveryId: str
    pickup: NotRequired[LocationJson]
    dropoff: NotRequired[LocationJson]
    pickupTime: NotRequired[str]
    deadline: NotRequired[str | None]


class CancelMessage(TypedDict):
    operation: Literal[Operation.CANCEL]
    deliveryId: str


Message = DeliveryMessage | RescheduleMessage | CancelMessage
