"""Writes and business rules for deliveries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fabrikam.apps.deliveries import repository
from fabrikam.apps.deliveries.stages import DeliveryStage


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def schedule_delivery(delivery_id: str, data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Create or replace a delivery (the workflow's idempotent PUT). Returns (delivery, created)."""
    existing = repository.load(delivery_id)
    document = {
        **data,
        "id": delivery_id,
        "stage": existing["stage"] if existing else DeliveryStage.CREATED.value,
        "createdAt": existing["createdAt"] if existing else now_iso(),
    }
    created_at = document["createdAt"]
    event = {
        "stage": DeliveryStage.CREATED.value,
        "location": data["pickup"],
        "timestamp": created_at,
    }
    created = repository.upsert(
        document, event, owner_id=data["owner"]["userId"], month=created_at[:7]
    )
    return document, created
