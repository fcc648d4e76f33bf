from __future__ import annotations

from rest_framework import status

from fabrikam.web.problems import Conflict, DomainError, NotFound, Unprocessable


class NoDroneAvailable(Conflict):
    title = "No drone available"
    slug = "no-drone-available"


class Unserviceable(Unprocessable):
    """No drone of the fleet could ever serve the request (too heavy, too large, out of reach):
    unlike NoDroneAvailable, waiting does not help."""

    title = "No drone in the fleet can serve this delivery"
    slug = "unserviceable"


class DroneDeliveryNotFound(NotFound):
    title = "Drone delivery not found"
    slug = "drone-delivery-not-found"

    @classmethod
    def unassigned(cls, delivery_id: str) -> DroneDeliveryNotFound:
        return cls(f"No drone is assigned to delivery {delivery_id}.")


class DroneNotFound(NotFound):
    title = "Drone not found"
    slug = "drone-not-found"


class DroneBusy(Conflict):
    title = "Drone is busy"
    slug = "drone-busy"


class DeliveryNotReplannable(Conflict):
    title = "The delivery's route can no longer change"
    slug = "delivery-not-replannable"


class AssignmentReleased(DomainError):
    status = status.HTTP_410_GONE
    title = "The drone assignment was released"
    slug = "assignment-released"
