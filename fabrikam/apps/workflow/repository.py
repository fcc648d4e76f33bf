"""The only code that talks to the workflow's store: saga progress in Redis.

`<prefix>:workflow:v1:saga:<deliveryId>` is a hash recording which steps are done, so a message
redelivered after a crash resumes where the last attempt stopped instead of redoing it;
`...:lock:<deliveryId>` keeps two workers off the same delivery at once. The lock is short
(`WORKFLOW_LOCK_SECONDS`) and renewed by its holder while it works, so a crashed worker's lock
lapses within seconds; the holder's writes to the saga are fenced by the lock's token, so a worker
that stalled past its lapsed lock cannot write over the worker that took over (`LockLost`).

Every step is one round trip, each a Lua script sent by its SHA (`EVALSHA`): the lock taken and
the saga's state read together (`locked`; for a delivery that has not ended, with its first write
too: `Begin`), a write, and the last write and the lock's release together (`finish`).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection
from redis.commands.core import Script
from redis.exceptions import RedisError, ResponseError

from fabrikam.apps.workflow.exceptions import Busy, LockLost

VERSION = "v1"
STATE_TTL_SECONDS = 30 * 24 * 3600


def _script(source: str) -> Script:
    """A script run by its SHA (`EVALSHA`), loaded into a server that does not know it yet."""
    return Script(None, source.strip().encode())  # type: ignore[arg-type]  # bytes: no encoder needed


# KEYS[1] the lock, KEYS[2] the saga; ARGV[1] the token, ARGV[2] the lock's time to live (ms).
# Taken: {1, the saga's fields and values}; held by another: {0, its time to live in ms}.
# With a `Begin` (ARGV[3] the saga's TTL, ARGV[4] a field set unless set, ARGV[5] its value, then
# field/value pairs): once the state is read, a saga whose status is '' or 'running' and with no
# cancel requested gets those writes too, and the answer a third item, the field's stored value.
_LOCK = _script("""
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {0, redis.call('PTTL', KEYS[1])}
end
local state = redis.call('HGETALL', KEYS[2])
if #ARGV < 3 then return {1, state} end
local status = redis.call('HGET', KEYS[2], 'status')
local cancel = redis.call('HGET', KEYS[2], 'cancelRequested')
if (status and status ~= '' and status ~= 'running') or (cancel and cancel ~= '') then
  return {1, state}
end
local first = redis.call('HGET', KEYS[2], ARGV[4])
if not first or first == '' then
  redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
  first = ARGV[5]
end
if #ARGV > 5 then redis.call('HSET', KEYS[2], unpack(ARGV, 6)) end
redis.call('EXPIRE', KEYS[2], ARGV[3])
return {1, state, first}
""")
_RELEASE_LOCK = _script("""
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
""")
_RENEW_LOCK = _script("""
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
""")
# One write to a saga hash (KEYS[1]), refused unless ARGV[1] (the writer's lock token; empty: a
# write outside any lock) still holds the lock KEYS[2]. ARGV[3] is the operation: `hincrby` adds
# one to the field ARGV[4] and returns the count; `hset` and `hset-release` set ARGV[4] to ARGV[5]
# unless it is set (non-empty; '' for none) and return its value, then set the field/value pairs
# from ARGV[6]; `hset-release` then releases the lock.
_FENCED_WRITE = _script("""
if ARGV[1] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return redis.error_reply('FENCED the lock on this saga has passed to another worker')
end
local result = 0
if ARGV[3] == 'hincrby' then
  result = redis.call('HINCRBY', KEYS[1], ARGV[4], 1)
else
  if ARGV[4] ~= '' then
    result = redis.call('HGET', KEYS[1], ARGV[4])
    if not result or result == '' then
      redis.call('HSET', KEYS[1], ARGV[4], ARGV[5])
      result = ARGV[5]
    end
  end
  if #ARGV > 5 then redis.call('HSET', KEYS[1], unpack(ARGV, 6)) end
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
if ARGV[3] == 'hset-release' and ARGV[1] ~= '' then redis.call('DEL', KEYS[2]) end
return result
""")


@dataclass
class Begin:
    """A running saga's first write, made by `locked` with the lock when the saga it reads has
    status '' or 'running' and no cancel requested (the state in which the delivery saga writes it
    before its first step): `first` set to `value` unless set (non-empty), then `fields`. `stored`
    is then `first`'s stored value; None when the lock did not write it."""

    first: str
    value: Any
    fields: dict[str, Any]
    stored: str | None = None


@dataclass
class _Lock:
    delivery_id: str
    token: str
    seconds: float  # its time to live
    confirmed_at: float  # monotonic time it was last known to be this holder's (taken, checked)
    released: bool = False


_clock = time.monotonic  # how long a lock has been held (a process stalled counts too)

# The lock this thread holds, if any: its writes to that saga are fenced.
_held: contextvars.ContextVar[_Lock | None] = contextvars.ContextVar("workflow_lock", default=None)


def _redis() -> Any:
    return get_redis_connection("default")


def _key(*parts: str) -> str:
    return ":".join((settings.REDIS_KEY_PREFIX, "workflow", VERSION, *parts))


def _decoded(raw: Any) -> dict[str, str]:
    if isinstance(raw, dict):
        return {k.decode(): v.decode() for k, v in raw.items()}
    return {raw[i].decode(): raw[i + 1].decode() for i in range(0, len(raw), 2)}


def load(delivery_id: str) -> dict[str, str]:
    return _decoded(_redis().hgetall(_key("saga", delivery_id)))


def _write(delivery_id: str, op: str, *args: str) -> Any:
    held = _held.get()
    token = held.token if held and held.delivery_id == delivery_id else ""
    keys = (_key("saga", delivery_id), _key("lock", delivery_id))
    try:
        result = _FENCED_WRITE(keys, (token, STATE_TTL_SECONDS, op, *args), client=_redis())
    except ResponseError as error:
        if "FENCED" in str(error):
            raise LockLost(delivery_id) from error
        raise
    if op == "hset-release" and token:
        held.released = True  # type: ignore[union-attr]  # token set: held is this saga's lock
    return result


def _pairs(fields: dict[str, Any]) -> list[str]:
    values = {name: str(value) for name, value in fields.items()}
    values["updatedAt"] = str(time.time())
    return [item for pair in values.items() for item in pair]


def update(delivery_id: str, **fields: Any) -> None:
    _write(delivery_id, "hset", "", "", *_pairs(fields))


def begin(delivery_id: str, first: str, value: Any, **fields: Any) -> str:
    """Record `fields` and `first` unless set (non-empty), in one write; returns the stored value
    of `first` (e.g. the first attempt's time)."""
    return _write(delivery_id, "hset", first, str(value), *_pairs(fields)).decode()


def finish(delivery_id: str, **fields: Any) -> None:
    """The last write of a saga's step under its lock, releasing the lock with it: nothing may
    write to this saga after it in the same `locked` block."""
    _write(delivery_id, "hset-release", "", "", *_pairs(fields))


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
    return begin(delivery_id, field, value)


def increment(delivery_id: str, field: str) -> int:
    """Add one to a counter of the saga (e.g. how often it waited); returns the new count."""
    return int(_write(delivery_id, "hincrby", field))


def still_held(delivery_id: str) -> None:
    """Before a step a stale worker must not repeat over the one that took over (the delivery PUT,
    which would put back a route rescheduled since): raise LockLost if this worker's lock on the
    saga may have lapsed. A lock taken or checked less than half its time to live ago cannot have
    (the usual case: no round trip); an older one is checked, and extended, in Redis."""
    held = _held.get()
    if held is None or held.delivery_id != delivery_id:
        return
    now = _clock()
    if now - held.confirmed_at < held.seconds / 2:
        return
    key = _key("lock", delivery_id)
    if not _RENEW_LOCK((key,), (held.token, int(held.seconds * 1000)), client=_redis()):
        raise LockLost(delivery_id)
    held.confirmed_at = now


class _Renewer:
    """One thread per process extends every lock the process holds, each every third of its time
    to live while its holder works, and forgets a lock that is no longer its holder's (its next
    write is refused). One thread for all, so taking a lock starts no thread."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Nothing held, no thread yet: at start, and in a forked child (a prefork pool process),
        which inherits neither the parent's locks nor its thread."""
        self._changed = threading.Condition()
        self._locks: dict[tuple[str, str], tuple[float, float]] = {}  # (key, token): (ttl, due)
        self._wakes_at = math.inf
        self._thread: threading.Thread | None = None

    def hold(self, key: str, token: str, seconds: float) -> None:
        due = time.monotonic() + seconds / 3
        with self._changed:
            self._locks[(key, token)] = (seconds, due)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="renew locks", daemon=True)
                self._thread.start()
            if due < self._wakes_at:
                self._changed.notify()

    def drop(self, key: str, token: str) -> None:
        with self._changed:
            self._locks.pop((key, token), None)

    def _run(self) -> None:
        period = 1.0  # idle: look again after this long (a lock added meanwhile wakes it earlier)
        while True:
            with self._changed:
                now = time.monotonic()
                due = [lock for lock, (_, at) in self._locks.items() if at <= now]
                if not due:
                    self._wakes_at = min(
                        (at for _, at in self._locks.values()), default=now + period
                    )
                    self._changed.wait(self._wakes_at - now)
                    continue
                ttl = {lock: self._locks[lock][0] for lock in due}
                for lock in due:
                    self._locks[lock] = (ttl[lock], now + ttl[lock] / 3)
                period = max(ttl.values()) / 3
            for (key, token), seconds in ttl.items():
                try:
                    renewed = _RENEW_LOCK((key,), (token, int(seconds * 1000)), client=_redis())
                except RedisError:  # a store blip: try again next period
                    continue
                if not renewed:
                    self.drop(key, token)  # lapsed: the holder's next write is refused


_renewer = _Renewer()
os.register_at_fork(after_in_child=_renewer.reset)


@contextlib.contextmanager
def locked(
    delivery_id: str, seconds: float, begin: Begin | None = None
) -> Iterator[dict[str, str]]:
    """Exclusive access to one delivery's saga, yielding its state as the lock was taken (before
    `begin`'s writes, which are made in the same round trip: see `Begin`). The lock lives `seconds`
    and is renewed while the block runs, so it lapses soon after its worker dies; the block's
    writes to this saga are refused (`LockLost`) once the lock is no longer its own."""
    token = uuid.uuid4().hex
    key = _key("lock", delivery_id)
    redis = _redis()
    args: tuple[Any, ...] = (token, int(seconds * 1000))
    if begin is not None:
        args += (STATE_TTL_SECONDS, begin.first, str(begin.value), *_pairs(begin.fields))
    taken, found, *began = _LOCK((key, _key("saga", delivery_id)), args, redis)
    if not taken:
        raise Busy(delivery_id, max(found, 0) / 1000)
    if begin is not None:
        begin.stored = began[0].decode() if began else None
    _renewer.hold(key, token, seconds)
    lock = _Lock(delivery_id, token, seconds, _clock())
    held = _held.set(lock)
    try:
        yield _decoded(found)
    finally:
        _held.reset(held)
        _renewer.drop(key, token)
        if not lock.released:
            _RELEASE_LOCK((key,), (token,), client=redis)
