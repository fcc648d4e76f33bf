"""Which business each delivery id was issued to, so only that business (or an admin) may
reschedule or cancel it; and which deliveries were cancelled here, so none is rescheduled after.

The ingestion issues every delivery id, so it records the owner at that moment, in its own Redis
keys, before the message is published (a cancel sent at once still finds it). The record lives as
long as a delivery can be changed: DELIVERY_TOMBSTONE_TTL_SECONDS.
"""

from __future__ import annotations

from django.conf import settings
from django_redis import get_redis_connection
from redis.client import Pipeline


def _key(delivery_id: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:ingestion:owner:{delivery_id}"


def record(delivery_id: str, owner_id: str, pipe: Pipeline | None = None) -> None:
    """Record the owner, or queue the write on `pipe` (the caller executes it)."""
    (pipe or get_redis_connection("default")).set(
        _key(delivery_id), owner_id, ex=settings.DELIVERY_TOMBSTONE_TTL_SECONDS
    )


def _cancel_key(delivery_id: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:ingestion:cancelled:{delivery_id}"


def record_cancel(delivery_id: str) -> None:
    get_redis_connection("default").set(
        _cancel_key(delivery_id), 1, ex=settings.DELIVERY_TOMBSTONE_TTL_SECONDS
    )


def cancel_requested(delivery_id: str) -> bool:
    return bool(get_redis_connection("default").exists(_cancel_key(delivery_id)))


def owner_of(delivery_id: str) -> str | None:
    value = get_redis_connection("default").get(_key(delivery_id))
    return None if value is None else value.decode()
