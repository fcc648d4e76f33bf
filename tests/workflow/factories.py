"""Queue messages as the ingestion publishes them (API.md "Queue message")."""

from __future__ import annotations

import uuid

import factory

from tests.deliveries.factories import LocationFactory
from tests.ingestion.factories import PackageInfoFactory


class DeliveryMessageFactory(factory.DictFactory):
    operation = "delivery"
    deliveryId = factory.LazyFunction(lambda: uuid.uuid4().hex)
    ownerId = factory.Sequence(lambda n: f"owner-{n}")
    pickup = factory.SubFactory(LocationFactory)
    dropoff = factory.SubFactory(LocationFactory)
    pickupTime = "2026-12-03T10:00:00Z"
    deadline = ""
    expedited = False
    confirmationRequired = "None"
    packageInfo = factory.SubFactory(PackageInfoFactory)


def cancel_message(delivery_id: str) -> dict:
    return {"operation": "cancel", "deliveryId": delivery_id}


def reschedule_message(delivery_id: str, **changes) -> dict:
    return {"operation": "reschedule", "deliveryId": delivery_id, **changes}
