"""The delivery saga: package → drone → delivery, each an idempotent PUT keyed by id."""

from __future__ import annotations

import logging
from typing import Any

from fabrikam.apps.workflow import clients

logger = logging.getLogger(__name__)


def run_delivery_saga(message: dict[str, Any]) -> str:
    """Schedule the delivery in `message`; returns the assigned drone id."""
    delivery_id = message["deliveryId"]
    package = message["packageInfo"]
    clients.put_package(
        package["packageId"],
        {
            "size": package["size"],
            "weight": package["weight"],
            "tag": package.get("tag", ""),
            "ownerId": message["ownerId"],
        },
    )
    assignment = clients.assign_drone(
        delivery_id,
        {
            "deliveryId": delivery_id,
            "ownerId": message["ownerId"],
            "pickup": message["pickup"],
            "dropoff": message["dropoff"],
            "packageDetails": [
                {"id": package["packageId"], "size": package["size"], "weight": package["weight"]}
            ],
            "expedited": message["expedited"],
        },
    )
    clients.put_delivery(
        delivery_id,
        {
            "owner": {"userId": message["ownerId"], "accountId": message["ownerId"]},
            "pickup": message["pickup"],
            "dropoff": message["dropoff"],
            "pickupTime": message["pickupTime"],
            "deadline": message.get("deadline") or "",
            "expedited": message["expedited"],
            "confirmationRequired": message["confirmationRequired"],
            "droneId": assignment["droneId"],
            "packageId": package["packageId"],
        },
    )
    logger.info("delivery %s scheduled with drone %s", delivery_id, assignment["droneId"])
    return assignment["droneId"]
