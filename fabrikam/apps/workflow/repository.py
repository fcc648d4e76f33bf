"""The only code that talks to the workflow's store: saga progress in Redis.

`<prefix>:workflow:v1:saga:<deliveryId>` is a hash recording which steps are done, so a message
redelivered after a crash resumes where the last attempt stopped instead of redoing it;
`...:lock:<deliveryId>` keeps two workers off the same delivery at once.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection

from fabrikam.apps.workflow.exceptions import Busy

VERSION = "v1"
STATE_TTL_SECONDS = 30 * 24 * 3600

_RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _redis() -> Any:
    return get_redis_connection("default")


def _key(*parts: str) -> str:
    return ":".join((settings.REDIS_KEY_PREFIX, "workflow", VERSION, *parts))


def load(delivery_id: str) -> dict[str, str]:
    raw = _redis().hgetall(_key("saga", delivery_id))
    return {k.decode(): v.decode() for k, v in raw.items()}


def update(delivery_id: str, **fields: Any) -> None:
    key = _key("saga", delivery_id)
    values = {name: str(value) for name, value in fields.items()}
    values["updatedAt"] = str(time.time())
    pipe = _redis().pipeline()
    pipe.hset(key, mapping=values)
    pipe.expire(key, STATE_TTL_SECONDS)
    pipe.execute()


def reset(delivery_id: str) -> None:
    """Forget a finished saga's progress (an operator replays it), keeping a client's cancel."""
    key = _key("saga", delivery_id)
    redis = _redis()
    cancelled = redis.hget(key, "cancelRequested")
    redis.delete(key)
    if cancelled:
        update(delivery_id, cancelRequested=cancelled.decode())


def set_if_absent(delivery_id: str, field: str, value: Any) -> str:
    """Record `field` unless set; returns the stored value (e.g. the first attempt's time)."""
    key = _key("saga", delivery_id)
    redis = _redis()
    redis.hsetnx(key, field, str(value))
    redis.expire(key, STATE_TTL_SECONDS)
    return redis.hget(key, field).decode()


def increment(delivery_id: str, field: str) -> int:
    """Add one to a counter of the saga (e.g. how often it waited); returns the new count."""
    key = _key("saga", delivery_id)
    pipe = _redis().pipeline()
    pipe.hincrby(key, field, 1)
    pipe.expire(key, STATE_TTL_SECONDS)
    return int(pipe.execute()[0])


@contextlib.contextmanager
def locked(delivery_id: str, seconds: float) -> Iterator[None]:
    """Exclusive access to one delivery's saga for at most `seconds` (the lock expires by itself
    if the worker dies, so a redelivery can take over)."""
    token = uuid.uuid4().hex
    key = _key("lock", delivery_id)
    redis = _redis()
    if not redis.set(key, token, nx=True, px=int(seconds * 1000)):
        raise Busy(delivery_id, max(redis.pttl(key), 0) / 1000)
    try:
        yield
    finally:
        redis.eval(_RELEASE_LOCK, 1, key, token)
