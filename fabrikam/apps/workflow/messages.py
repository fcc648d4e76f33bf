"""Decoding queue messages (API.md "Queue message") into what the saga needs.

Anything that does not fit is an `InvalidMessage`: retrying it cannot help, so it goes straight to
the dead-letter queue with the reason."""

from __future__ import annotations

from typing import Any

from fabrikam.apps.workflow.exceptions import InvalidMessage
from fabrikam.contract.messages import CANCEL, DELIVERY, OPERATIONS, RESCHEDULE

__all__ = ["CANCEL", "DELIVERY", "RESCHEDULE", "validate"]

DELIVERY_FIELDS = ("ownerId", "pickup", "dropoff", "pickupTime", "packageInfo")
PACKAGE_FIELDS = ("packageId", "size", "weight")


def _location(message: dict[str, Any], name: str) -> None:
    value = message.get(name)
    if not (
        isinstance(value, dict)
        and isinstance(value.get("latitude"), int | float)
        and isinstance(value.get("longitude"), int | float)
    ):
        raise InvalidMessage(f"{name} must be a location object with latitude and longitude")


def validate(message: Any) -> dict[str, Any]:
    if not isinstance(message, dict):
        raise InvalidMessage(f"the message body is a {type(message).__name__}, not a JSON object")
    operation = message.get("operation")
    if operation not in OPERATIONS:
        raise InvalidMessage(f"unknown operation {operation!r}: expected one of {OPERATIONS}")
    delivery_id = message.get("deliveryId")
    if not isinstance(delivery_id, str) or not delivery_id:
        raise InvalidMessage("deliveryId is missing")
    if operation == DELIVERY:
        missing = [name for name in DELIVERY_FIELDS if name not in message]
        package = message.get("packageInfo")
        if isinstance(package, dict):
            missing += [f"packageInfo.{n}" for n in PACKAGE_FIELDS if n not in package]
        elif "packageInfo" not in missing:
            missing.append("packageInfo")
        if missing:
            raise InvalidMessage(f"a delivery message lacks {', '.join(missing)}")
        _location(message, "pickup")
        _location(message, "dropoff")
    if operation == RESCHEDULE:
        for name in ("pickup", "dropoff"):
            if name in message:
                _location(message, name)
    return message
