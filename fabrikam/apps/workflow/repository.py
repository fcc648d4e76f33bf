"""The only code that talks to the workflow's store: saga progress in Redis.

`<prefix>:workflow:v1:saga:<deliveryId>` is a hash recording which steps are done, so a message
redelivered after a crash resumes where the last attempt stopped instead of redoing it;
`...:lock:<deliveryId>` keeps two workers off the same delivery at once. The lock is short
(`WORKFLOW_LOCK_SECONDS`) and renewed by its holder while it works, so a crashed worker's lock
lapses within seconds; the holder's writes to the saga are fenced by the lock's token, so a worker
that stalled past its lapsed lock cannot write over the worker that took over (`LockLost`).
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import RedisError, ResponseError

from fabrikam.apps.workflow.exceptions import Busy, LockLost

VERSION = "v1"
STATE_TTL_SECONDS = 30 * 24 * 3600

_RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_RENEW_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
# One write to a saga hash, refused unless ARGV[1] (the writer's lock token; empty: a write
# outside any lock) still holds KEYS[2].
_FENCED_WRITE = """
if ARGV[1] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return redis.error_reply('FENCED the lock on this saga has passed to another worker')
end
local result
if ARGV[3] == 'hset' then
  result = redis.call('HSET', KEYS[1], unpack(ARGV, 4))
elseif ARGV[3] == 'hsetnx' then
  result = redis.call('HGET', KEYS[1], ARGV[4])
  if not result or result == '' then
    redis.call('HSET', KEYS[1], ARGV[4], ARGV[5])
    result = ARGV[5]
  end
else
  result = redis.call('HINCRBY', KEYS[1], ARGV[4], 1)
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return result
"""

# (deliveryId, token) of the lock this thread holds, if any: its writes to that saga are fenced.
_held: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "workflow_lock", default=None
)


def _redis() -> Any:
    return get_redis_connection("default")


def _key(*parts: str) -> str:
    return ":".join((settings.REDIS_KEY_PREFIX, "workflow", VERSION, *parts))


def load(delivery_id: str) -> dict[str, str]:
    raw = _redis().hgetall(_key("saga", delivery_id))
    return {k.decode(): v.decode() for k, v in raw.items()}


def _write(delivery_id: str, op: str, *args: str) -> Any:
    held = _held.get()
    token = held[1] if held and held[0] == delivery_id else ""
    keys = (_key("saga", delivery_id), _key("lock", delivery_id))
    try:
        return _redis().eval(_FENCED_WRITE, 2, *keys, token, STATE_TTL_SECONDS, op, *args)
    except ResponseError as error:
        if "FENCED" in str(error):
            raise LockLost(delivery_id) from error
        raise


def update(delivery_id: str, **fields: Any) -> None:
    values = {name: str(value) for name, value in fields.items()}
    values["updatedAt"] = str(time.time())
    _write(delivery_id, "hset", *(item for pair in values.items() for item in pair))


def reset(delivery_id: str) -> None:
    """Forget a finished saga's progress (an operator replays it), keeping a client's cancel."""
    key = _key("saga", delivery_id)
    redis = _redis()
    cancelled = redis.hget(key, "cancelRequested")
    redis.delete(key)
    if cancelled:
        update(delivery_id, cancelRequested=cancelled.decode())


def set_if_absent(delivery_id: str, field: str, value: Any) -> str:
    """Record `field` unless set (non-empty); returns the stored value (e.g. the first attempt's
    time)."""
    return _write(delivery_id, "hsetnx", field, str(value)).decode()


def increment(delivery_id: str, field: str) -> int:
    """Add one to a counter of the saga (e.g. how often it waited); returns the new count."""
    return int(_write(delivery_id, "hincrby", field))


class _Renewal(threading.Thread):
    """Extends the lock every third of its time to live while its holder works; stops when the
    holder is done or the lock is no longer its own."""

    def __init__(self, key: str, token: str, seconds: float) -> None:
        super().__init__(name=f"renew {key}", daemon=True)
        self.key, self.token, self.seconds = key, token, seconds
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.seconds / 3):
            try:
                renewed = _redis().eval(
                    _RENEW_LOCK, 1, self.key, self.token, int(self.seconds * 1000)
                )
            except RedisError:  # a store blip: try again next period
                continue
            if not renewed:
                return  # lapsed: the holder's next write is refused


@contextlib.contextmanager
def locked(delivery_id: str, seconds: float) -> Iterator[None]:
    """Exclusive access to one delivery's saga. The lock lives `seconds` and is renewed while the
    block runs, so it lapses soon after its worker dies; the block's writes to this saga are
    refused (`LockLost`) once the lock is no longer its own."""
    token = uuid.uuid4().hex
    key = _key("lock", delivery_id)
    redis = _redis()
    if not redis.set(key, token, nx=True, px=int(seconds * 1000)):
        raise Busy(delivery_id, max(redis.pttl(key), 0) / 1000)
    renewal = _Renewal(key, token, seconds)
    renewal.start()
    held = _held.set((delivery_id, token))
    try:
        yield
    finally:
        _held.reset(held)
        renewal.done.set()
        renewal.join()
        redis.eval(_RELEASE_LOCK, 1, key, token)
