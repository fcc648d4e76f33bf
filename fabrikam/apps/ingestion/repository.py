"""The only code that talks to the ingestion's store, Redis: who owns each delivery id, which were
cancelled here, the message-id counters and the idempotency keys.

- `<prefix>:ingestion:owner:<deliveryId>`: the business a delivery id was issued to, recorded
  before its message is published (a cancel sent at once still finds it), kept as long as a
  delivery can be changed (DELIVERY_TOMBSTONE_TTL_SECONDS); `...:cancelled:<deliveryId>` likewise.
- `<prefix>:ingestion:v1:seq:<deliveryId>:<operation>`: how many messages of that operation were
  issued for the delivery, the `n` of a message id. A new delivery's id is a fresh UUID issued
  here, so its one delivery message is always `n` = 1 and needs no counter (an idempotent retry
  reuses the message id stored with its key).
- `<prefix>:ingestion:v1:idem:{<sha256>}` (and `:lock`, `:outcomes`): one idempotency key, with
  the scripts of fabrikam.apps.ingestion.idempotency; the three keys share a hash tag so the
  scripts stay valid on a clustered Redis.

A new delivery costs one round trip here: the owner (and nothing else; sent with the request's
throttle hits) without an Idempotency-Key, the claim script then the owner with one.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import RedisError

# Longer than a delivery lives (cancelled ones are kept 7 days), so a message id is not reused.
SEQUENCE_TTL_SECONDS = 30 * 24 * 3600
FIRST = 1  # the `n` of a new delivery's only delivery message
# Sends a write (a function adding its commands to a Redis pipeline) with commands of its own.
SentWith = Callable[[Callable[[Any], Any]], object]


def _redis() -> Any:
    return get_redis_connection("default")


def async_pool() -> Any:
    """A redis.asyncio connection pool to this store, for the server's event loop (the fast path
    of a delivery request's POST)."""
    from redis import asyncio as redis_asyncio

    return redis_asyncio.ConnectionPool.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.CACHES["default"]["OPTIONS"]["SOCKET_CONNECT_TIMEOUT"],
    )


def _owner_key(delivery_id: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:ingestion:owner:{delivery_id}"


def _cancel_key(delivery_id: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:ingestion:cancelled:{delivery_id}"


def _sequence_key(delivery_id: str, operation: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:ingestion:v1:seq:{delivery_id}:{operation}"


def message_id(delivery_id: str, operation: str, n: int) -> str:
    return f"{delivery_id}:{operation}:{n}"


# --- owners and cancels ---
def record_owner(delivery_id: str, owner_id: str, on: Any = None) -> None:
    """Record a delivery id's owner, at once or as a command of the pipeline `on`."""
    client = _redis() if on is None else on
    client.set(_owner_key(delivery_id), owner_id, ex=settings.DELIVERY_TOMBSTONE_TTL_SECONDS)


def forget_owner(delivery_id: str, on: Any = None) -> None:
    """Delete a delivery id's owner (an id never issued after all), at once or on `on`."""
    (_redis() if on is None else on).delete(_owner_key(delivery_id))


def owner_of(delivery_id: str) -> str | None:
    value = _redis().get(_owner_key(delivery_id))
    return None if value is None else value.decode()


def record_cancel(delivery_id: str) -> None:
    _redis().set(_cancel_key(delivery_id), 1, ex=settings.DELIVERY_TOMBSTONE_TTL_SECONDS)


def cancel_requested(delivery_id: str) -> bool:
    return bool(_redis().exists(_cancel_key(delivery_id)))


# --- message ids ---
def new_delivery(
    delivery_id: str, owner_id: str, operation: str, sent_with: SentWith | None = None
) -> str:
    """Record a fresh delivery id's owner; returns its first message id. One round trip: the
    owner alone, or sent by `sent_with` with commands of its own (the request's throttle hits).
    When `sent_with` refuses the request after sending it (raises), the owner is deleted again:
    the delivery id was never issued."""
    if sent_with is None:
        record_owner(delivery_id, owner_id)
        return message_id(delivery_id, operation, FIRST)
    try:
        sent_with(lambda pipeline: record_owner(delivery_id, owner_id, on=pipeline))
    except RedisError:
        raise
    except BaseException:
        with contextlib.suppress(RedisError):  # or it expires with the TTL
            forget_owner(delivery_id)
        raise
    return message_id(delivery_id, operation, FIRST)


def next_message_id(delivery_id: str, operation: str) -> str:
    """`{deliveryId}:{operation}:{n}`, n counting this delivery's messages of that operation."""
    key = _sequence_key(delivery_id, operation)
    with _redis().pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, SEQUENCE_TTL_SECONDS)
        n, _ = pipe.execute()
    return message_id(delivery_id, operation, n)


# --- idempotency keys (the scripts and what they mean: fabrikam.apps.ingestion.idempotency) ---
def idempotency_keys(idempotency_key: str) -> list[str]:
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
    base = f"{settings.REDIS_KEY_PREFIX}:ingestion:v1:idem:{{{digest}}}"
    return [base, f"{base}:lock", f"{base}:outcomes"]


def run_idempotency_script(script: str, idempotency_key: str, args: list[Any]) -> Any:
    """Run one of idempotency's scripts on the key's three Redis keys (EVALSHA, then EVAL)."""
    return _redis().register_script(script)(keys=idempotency_keys(idempotency_key), args=args)


def read_outcome(idempotency_key: str, since: str, block_ms: int) -> str | None:
    """The first outcome recorded for the key after stream entry `since`, waiting at most
    `block_ms`; None when none came."""
    outcomes = idempotency_keys(idempotency_key)[2]
    for _stream, entries in _redis().xread({outcomes: since}, count=1, block=block_ms) or []:
        for _entry_id, fields in entries:
            value = fields.get(b"outcome") or fields.get("outcome")
            return value.decode() if isinstance(value, bytes) else str(value)
    return None
