"""The bodies of the calls one context makes to another over HTTP (or in process, through the
same views): the workflow saga's calls to the package, drone scheduler and delivery services,
and the drone scheduler's flight updates to the delivery service (API.md).

TypedDicts, so a body is still the JSON object that goes on the wire; the receiving view's
serializer is what enforces it.
"""

from typing import NotRequired, TypedDict

from fabrikam.contract.messages import LocationJson


# --- packages: PUT/PATCH /api/packages/{packageId} ---
class PackagePut(TypedDict):
    size: str  # a PackageSize value
    weight: float
    tag: str
    ownerId: str
    deliveryState: str  # a packages.DeliveryState value


class PackagePatch(TypedDict, total=False):
    size: str
    weight: float
    tag: str
    deliveryState: str


# --- drone scheduler: PUT/PATCH /api/dronedeliveries/{deliveryId} ---
class PackageDetail(TypedDict):
    id: str
    size: str
    weight: float


class DroneAssignment(TypedDict):
    """PUT: assign a drone to the delivery."""

    deliveryId: str
    ownerId: str
    pickup: LocationJson
    dropoff: LocationJson
    packageDetails: list[PackageDetail]
    expedited: bool


class DroneAssigned(TypedDict):
    """The PUT's answer, as far as the saga reads it."""

    droneId: str
    pickupETA: NotRequired[str | None]
    deliveryETA: NotRequired[str | None]


class RouteChange(TypedDict, total=False):
    """PATCH: a rescheduled delivery's new pickup and/or drop-off (at least one)."""

    pickup: LocationJson
    dropoff: LocationJson


# --- deliveries: PUT/PATCH/DELETE /api/deliveries/{deliveryId} ---
class Owner(TypedDict):
    userId: str
    accountId: str


class DeliveryPut(TypedDict):
    """Create or replace a delivery; `stage: Cancelled` with a `reason` stores a request that
    ended before it was scheduled."""

    owner: Owner
    pickup: LocationJson
    dropoff: LocationJson
    pickupTime: str
    deadline: str
    expedited: bool
    confirmationRequired: str  # a ConfirmationType value
    droneId: str
    packageId: str
    pickupETA: NotRequired[str]
    deliveryETA: NotRequired[str]
    stage: NotRequired[str]  # a DeliveryStage value: Created (the default) or Cancelled
    reason: NotRequired[str]


class DeliveryReschedule(TypedDict, total=False):
    """PATCH: any of these, at least one; an empty deadline removes it."""

    pickup: LocationJson
    dropoff: LocationJson
    pickupTime: str
    deadline: str | None


class DeliveryCancel(TypedDict):
    """DELETE's optional body."""

    reason: str


# --- deliveries: POST /api/deliveries/{deliveryId}/tracking (from the drone scheduler) ---
class TrackingUpdate(TypedDict):
    stage: str  # a flight DeliveryStage value
    location: LocationJson
    pickupETA: str
    deliveryETA: str
    timestamp: str
