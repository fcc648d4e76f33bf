"""Queue messages (the contract's `fabrikam.contract.messages`) built from validated requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rest_framework.fields import DateTimeField

from fabrikam.contract.geo import Location
from fabrikam.contract.messages import (
    CANCEL,
    DELIVERY,
    RESCHEDULE,
    CancelMessage,
    DeliveryMessage,
    RescheduleMessage,
)

_iso = DateTimeField().to_representation


def _value(value: Any) -> Any:
    if isinstance(value, Location):
        return value.as_dict()
    if isinstance(value, datetime):
        return _iso(value)
    return value


def delivery_message(delivery_id: str, request: dict[str, Any]) -> DeliveryMessage:
    return {
        "operation": DELIVERY,
        "deliveryId": delivery_id,
        "ownerId": request["ownerId"],
        "pickup": _value(request["pickupLocation"]),
        "dropoff": _value(request["dropOffLocation"]),
        "pickupTime": _value(request["pickupTime"]),
        "deadline": _value(request.get("deadline")),
        "expedited": request["expedited"],
        "confirmationRequired": request["confirmationRequired"],
        "packageInfo": dict(request["packageInfo"]),
    }


RESCHEDULE_FIELDS = {
    "pickupLocation": "pickup",
    "dropOffLocation": "dropoff",
    "pickupTime": "pickupTime",
    "deadline": "deadline",
}


def reschedule_message(delivery_id: str, changes: dict[str, Any]) -> RescheduleMessage:
    return {
        "operation": RESCHEDULE,
        "deliveryId": delivery_id,
        **{RESCHEDULE_FIELDS[name]: _value(value) for name, value in changes.items()},
    }


def cancel_message(delivery_id: str) -> CancelMessage:
    return {"operation": CANCEL, "deliveryId": delivery_id}


def echo(request: dict[str, Any]) -> dict[str, Any]:
    """The validated request rendered back in the contract's shape (for the 202 body)."""
    return {name: _value(value) for name, value in request.items()}
