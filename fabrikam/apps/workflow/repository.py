"""The only code that talks to the workflow's store: saga progress in Redis.

`<prefix>:workflow:v1:saga:<deliveryId>` is a hash recording which steps are done, so a message
redelivered after a crash resumes where the last attempt stopped instead of redoing it;
`...:lock:<deliveryId>` keeps two workers off the same delivery at once.

A saga step is one round trip: taking the lock reads the state in the same pipeline, the first
write of an attempt records its start time with it, and the last write releases the lock with it
(`Held.finish`). The two pipelines that touch both the lock and the state are not transactions,
so the keys may live on different nodes of a clustered Redis; Redis runs a pipeline's commands in
order.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
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


def _decoded(raw: dict[bytes, bytes]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in raw.items()}


def load(delivery_id: str) -> dict[str, str]:
    return _decoded(_redis().hgetall(_key("saga", delivery_id)))


def _queue_update(pipe: Any, delivery_id: str, fields: dict[str, Any]) -> None:
    key = _key("saga", delivery_id)
    values = {name: str(value) for name, value in fields.items()}
    values["updatedAt"] = str(time.time())
    pipe.hset(key, mapping=values)
    pipe.expire(key, STATE_TTL_SECONDS)


def update(delivery_id: str, **fields: Any) -> None:
    pipe = _redis().pipeline()
    _queue_update(pipe, delivery_id, fields)
    pipe.execute()


def begin(delivery_id: str, now: float, **fields: Any) -> float:
    """Record `fields` and, unless an earlier attempt did, `firstAttemptAt` = `now`; returns the
    first attempt's time. One round trip."""
    key = _key("saga", delivery_id)
    pipe = _redis().pipeline()
    pipe.hsetnx(key, "firstAttemptAt", str(now))
    _queue_update(pipe, delivery_id, fields)
    pipe.hget(key, "firstAttemptAt")
    return float(pipe.execute()[-1].decode())


def reset(delivery_id: str) -> None:
    """Forget a finished saga's progress (an operator replays it), keeping a client's cancel."""
    key = _key("saga", delivery_id)
    redis = _redis()
    cancelled = redis.hget(key, "cancelRequested")
    redis.delete(key)
    if cancelled:
        update(delivery_id, cancelRequested=cancelled.decode())


def increment(delivery_id: str, field: str) -> int:
    """Add one to a counter of the saga (e.g. how often it waited); returns the new count."""
    key = _key("saga", delivery_id)
    pipe = _redis().pipeline()
    pipe.hincrby(key, field, 1)
    pipe.expire(key, STATE_TTL_SECONDS)
    return int(pipe.execute()[0])


@dataclass
class Held:
    """A delivery's lock, held: its saga's state as read when the lock was taken."""

    delivery_id: str
    token: str
    state: dict[str, str] = field(default_factory=dict)
    released: bool = False

    def finish(self, **fields: Any) -> None:
        """`update` and release the lock, in one round trip (the saga's last write)."""
        pipe = _redis().pipeline(transaction=False)
        _queue_update(pipe, self.delivery_id, fields)
        pipe.eval(_RELEASE_LOCK, 1, _key("lock", self.delivery_id), self.token)
        pipe.execute()
        self.released = True


@contextlib.contextmanager
def locked(delivery_id: str, seconds: float) -> Iterator[Held]:
    """Exclusive access to one delivery's saga for at most `seconds` (the lock expires by itself
    if the worker dies, so a redelivery can take over), with its state read under the lock."""
    token = uuid.uuid4().hex
    key = _key("lock", delivery_id)
    redis = _redis()
    pipe = redis.pipeline(transaction=False)
    pipe.set(key, token, nx=True, px=int(seconds * 1000))
    pipe.hgetall(_key("saga", delivery_id))
    pipe.pttl(key)
    taken, state, ttl = pipe.execute()
    if not taken:
        raise Busy(delivery_id, max(ttl, 0) / 1000)
    held = Held(delivery_id, token, _decoded(state))
    try:
        yield held
    finally:
        if not held.released:
            redis.eval(_RELEASE_LOCK, 1, key, token)
