"""Reads of deliveries."""

from __future__ import annotations

from typing import Any

from fabrikam.apps.deliveries import repository
from fabrikam.apps.deliveries.exceptions import DeliveryNotFound


def get_delivery(delivery_id: str) -> dict[str, Any]:
    delivery = repository.load(delivery_id)
    if delivery is None:
        raise DeliveryNotFound(f"There is no delivery {delivery_id}.")
    return delivery


def delivery_events(delivery_id: str) -> list[dict[str, Any]]:
    get_delivery(delivery_id)
    return repository.events(delivery_id)
