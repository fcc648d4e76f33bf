"""Bodies for the delivery API, as the workflow, the drone scheduler and clients send them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import factory


def iso(moment: datetime) -> str:
    """ISO-8601 UTC to the millisecond: the precision the delivery service keeps times at."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def minutes_from_now(minutes: float) -> str:
    return iso(datetime.now(UTC) + timedelta(minutes=minutes))


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


class LocationFactory(factory.DictFactory):
    latitude = factory.Faker("pyfloat", min_value=47.55, max_value=47.70)
    longitude = factory.Faker("pyfloat", min_value=-122.40, max_value=-122.25)
    altitude = 0.0


class OwnerFactory(factory.DictFactory):
    userId = factory.Sequence(lambda n: f"owner-{n}")
    accountId = factory.LazyAttribute(lambda o: f"account-of-{o.userId}")


class DeliveryBodyFactory(factory.DictFactory):
    """PUT /api/deliveries/{id}: the body the workflow sends."""

    owner = factory.SubFactory(OwnerFactory)
    pickup = factory.SubFactory(LocationFactory)
    dropoff = factory.SubFactory(LocationFactory)
    pickupTime = "2026-12-01T10:00:00Z"
    deadline = "2026-12-01T12:00:00Z"
    expedited = False
    confirmationRequired = "None"
    droneId = factory.Sequence(lambda n: f"drone-{n:04d}")
    packageId = factory.Sequence(lambda n: f"pkg-{n}")


class FlightUpdateFactory(factory.DictFactory):
    """POST /api/deliveries/{id}/tracking: the drone scheduler's flight update."""

    stage = "HeadedToPickup"
    location = factory.SubFactory(LocationFactory)
    pickupETA = factory.LazyFunction(lambda: minutes_from_now(5))
    deliveryETA = factory.LazyFunction(lambda: minutes_from_now(20))
    timestamp = factory.LazyFunction(lambda: minutes_from_now(0))


class ConfirmationFactory(factory.DictFactory):
    dateTime = factory.LazyFunction(lambda: minutes_from_now(0))
    geoCoordinates = factory.SubFactory(LocationFactory)
    confirmationType = "None"
    confirmationBlob = ""


class NotifyMeFactory(factory.DictFactory):
    emailAddress = factory.Faker("email")
    sms = "+1 425 555 0100"


def delivery_id() -> str:
    return uuid.uuid4().hex
