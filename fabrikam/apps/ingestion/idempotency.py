"""Idempotency keys, in Redis with a TTL.

A key is claimed atomically (SET NX) before publishing; the same key with the same body then
returns the first delivery id without publishing again, and with another body is a 422.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection

from fabrikam.problems import Conflict, Unprocessable

PENDING = "pending"
DONE = "done"


class IdempotencyKeyReused(Unprocessable):
    title = "Idempotency-Key reused with a different request"
    slug = "idempotency-key-reused"


class IdempotentRequestInProgress(Conflict):
    title = "A request with this Idempotency-Key is in progress"
    slug = "idempotent-request-in-progress"
    headers = {"Retry-After": "1"}


@dataclass(frozen=True)
class Claim:
    delivery_id: str
    is_new: bool  # False: an earlier request with this key already succeeded


def fingerprint(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _key(idempotency_key: str) -> str:
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
    return f"{settings.REDIS_KEY_PREFIX}:ingestion:v1:idem:{digest}"


def claim(idempotency_key: str, body_fingerprint: str, delivery_id: str) -> Claim:
    redis = get_redis_connection("default")
    record = {"fingerprint": body_fingerprint, "deliveryId": delivery_id, "state": PENDING}
    ttl = settings.IDEMPOTENCY_KEY_TTL_SECONDS
    if redis.set(_key(idempotency_key), json.dumps(record), nx=True, ex=ttl):
        return Claim(delivery_id, is_new=True)
    raw = redis.get(_key(idempotency_key))
    if raw is None:  # expired between the two calls: claim again
        return claim(idempotency_key, body_fingerprint, delivery_id)
    existing = json.loads(raw)
    if existing["fingerprint"] != body_fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different request body; use a new key."
        )
    if existing["state"] == PENDING:
        raise IdempotentRequestInProgress("Retry in a moment to get its result.")
    return Claim(existing["deliveryId"], is_new=False)


def complete(idempotency_key: str) -> None:
    redis = get_redis_connection("default")
    raw = redis.get(_key(idempotency_key))
    if raw:
        record = {**json.loads(raw), "state": DONE}
        redis.set(_key(idempotency_key), json.dumps(record), keepttl=True)


def release(idempotency_key: str) -> None:
    """Forget a claim whose publish failed, so a retry with the key can succeed."""
    get_redis_connection("default").delete(_key(idempotency_key))
