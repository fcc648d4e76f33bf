"""Accepting delivery requests, cancels and reschedules: validate → publish → 202."""

from __future__ import annotations

import uuid
from typing import Any

from fabrikam.apps.ingestion import idempotency, messages, publisher


def new_delivery_id() -> str:
    return uuid.uuid4().hex


def request_delivery(
    request: dict[str, Any], raw_body: Any, idempotency_key: str | None = None
) -> str:
    """Queue a new delivery; return its id (a retry with its Idempotency-Key gets the first)."""
    delivery_id = new_delivery_id()
    if idempotency_key:
        body = {k: v for k, v in raw_body.items() if k != "deliveryId"}
        claim = idempotency.claim(idempotency_key, idempotency.fingerprint(body), delivery_id)
        if not claim.is_new:
            return claim.delivery_id
    message = messages.delivery_message(delivery_id, request)
    try:
        publisher.publish(message, publisher.next_message_id(delivery_id, messages.DELIVERY))
    except Exception:
        if idempotency_key:
            idempotency.release(idempotency_key)
        raise
    if idempotency_key:
        idempotency.complete(idempotency_key)
    return delivery_id


def reschedule_delivery(delivery_id: str, changes: dict[str, Any]) -> None:
    message = messages.reschedule_message(delivery_id, changes)
    publisher.publish(message, publisher.next_message_id(delivery_id, messages.RESCHEDULE))


def cancel_delivery(delivery_id: str) -> None:
    message = messages.cancel_message(delivery_id)
    publisher.publish(message, publisher.next_message_id(delivery_id, messages.CANCEL))
