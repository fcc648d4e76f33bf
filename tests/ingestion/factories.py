"""Delivery-request bodies as a client sends them (the README's curl sample by default)."""

from __future__ import annotations

import factory


class PackageInfoFactory(factory.DictFactory):
    packageId = factory.Sequence(lambda n: f"pkg-{n}")
    size = "Small"
    weight = 1.5
    tag = "books"


class DeliveryRequestFactory(factory.DictFactory):
    ownerId = "contoso"
    pickupLocation = "47.6097,-122.3331"
    dropOffLocation = factory.Dict({"latitude": 47.6205, "longitude": -122.3493})
    pickupTime = "2026-12-01T10:00:00Z"
    deadline = "2026-12-01T12:00:00Z"
    expedited = False
    confirmationRequired = "None"
    packageInfo = factory.SubFactory(PackageInfoFactory)


class RescheduleFactory(factory.DictFactory):
    pickupTime = "2026-12-02T10:00:00Z"
    deadline = "2026-12-02T12:00:00Z"
