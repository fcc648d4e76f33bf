"""What a delivery is, as the services and views see it (the repository maps it to Redis)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fabrikam.contract.enums import ConfirmationType, DeliveryStage
from fabrikam.contract.geo import Location


@dataclass(frozen=True)
class Owner:
    user_id: str
    account_id: str


@dataclass(frozen=True)
class DeliveryDetails:
    """What the workflow's PUT says about a delivery."""

    owner: Owner
    pickup: Location
    dropoff: Location
    pickup_time: datetime | None = None
    deadline: datetime | None = None
    expedited: bool = False
    confirmation_required: ConfirmationType = ConfirmationType.NONE
    drone_id: str = ""
    package_id: str = ""
    # From the drone scheduler's assignment; flight updates supersede them.
    pickup_eta: datetime | None = None
    delivery_eta: datetime | None = None


@dataclass(frozen=True)
class Reschedule:
    """A PATCH: only the fields given change."""

    pickup: Location | None = None
    dropoff: Location | None = None
    pickup_time: datetime | None = None
    deadline: datetime | None = None
    clear_deadline: bool = False  # the PATCH sent an empty deadline


@dataclass(frozen=True)
class Delivery:
    id: str
    owner: Owner
    pickup: Location
    dropoff: Location
    pickup_time: datetime | None
    deadline: datetime | None
    expedited: bool
    confirmation_required: ConfirmationType
    drone_id: str
    package_id: str
    stage: DeliveryStage
    created_at: datetime
    pickup_eta: datetime | None = None
    delivery_eta: datetime | None = None
    last_location: Location | None = None  # from the latest flight update
    tracked_at: datetime | None = None  # that update's timestamp
    cancelled_at: datetime | None = None
    confirmed_at: datetime | None = None  # the confirmation's dateTime
    reason: str = ""  # why it was cancelled (by the client, or the request could not be served)


@dataclass(frozen=True)
class DeliveryStatus:
    stage: DeliveryStage
    last_known_location: Location
    pickup_eta: datetime | None
    delivery_eta: datetime | None
    reason: str = ""


@dataclass(frozen=True)
class TrackingEvent:
    stage: DeliveryStage
    location: Location
    timestamp: datetime


@dataclass(frozen=True)
class FlightUpdate:
    """The drone scheduler's POST .../tracking."""

    stage: DeliveryStage
    location: Location
    timestamp: datetime
    pickup_eta: datetime | None = None
    delivery_eta: datetime | None = None


@dataclass(frozen=True)
class Confirmation:
    date_time: datetime
    geo_coordinates: Location
    confirmation_type: ConfirmationType
    confirmation_blob: str = ""


@dataclass(frozen=True)
class NotifyMeRequest:
    email_address: str = ""
    sms: str = ""


@dataclass(frozen=True)
class Cancellation:
    delivery_id: str
    cancelled_at: datetime
    expires_at: datetime


def month_of(moment: datetime) -> str:
    """The summary's month of a delivery: its pickup time's (its creation's without one)."""
    return f"{moment.year:04d}-{moment.month:02d}"
