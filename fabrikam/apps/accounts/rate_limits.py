"""Counting hits in a fixed time window, in Redis, atomically across every process and pod.

One Lua call increments the window's counter and starts its expiry on the first hit, so two
processes never both see "one left". A window allows at most `limit` hits; at its edges a burst
can reach twice that over one period, which is acceptable for abuse protection.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django_redis import get_redis_connection
from redis.commands.core import CoreCommands
from redis.exceptions import NoScriptError, RedisError

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# One hit on each of KEYS, whose window is the ARGV of the same position: {count, ttl, ...}.
_HIT = """
local counted = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('PEXPIRE', key, ARGV[i]) end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then redis.call('PEXPIRE', key, ARGV[i]); ttl = tonumber(ARGV[i]) end
  counted[#counted + 1] = count
  counted[#counted + 1] = ttl
end
return counted
"""
# If no counter has reached the limit, count one hit on each, in one step: concurrent callers
# cannot all see "one left". Returns {allowed, ms until the refusing counter's window ends}.
_RESERVE = """
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[1]) then
    return {0, redis.call('PTTL', key)}
  end
end
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 or redis.call('PTTL', key) < 0 then
    redis.call('PEXPIRE', key, ARGV[2])
  end
end
return {1, 0}
"""
_HIT_SHA = hashlib.sha1(_HIT.encode()).hexdigest()  # what EVALSHA names it by (redis-py's Script)
# environ key: {window name: Count} of the hits the server's event loop counted already for this
# request before handing it to Django (fabrikam/apps/deliveries/api/fast_status.py).
COUNTED = "fabrikam.throttle_counts"
_RELEASE = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 1
"""


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int


@dataclass(frozen=True)
class Count:
    hits: int
    retry_after: float  # seconds until the window ends


@lru_cache(maxsize=16)  # every throttled request reads its rate
def parse_rate(setting: str, value: str) -> Rate:
    """ "100/minute" (second, minute, hour, day; only the first letter counts, as in DRF)."""
    count, _, period = value.partition("/")
    try:
        limit = int(count)
        seconds = PERIODS[period.strip()[:1].lower()]
    except (ValueError, KeyError):
        raise ImproperlyConfigured(
            f"{setting}={value!r}: use <count>/<second|minute|hour|day>, e.g. 600/minute"
        ) from None
    if limit < 1:
        raise ImproperlyConfigured(f"{setting}={value!r}: the count must be at least 1")
    return Rate(limit, seconds)


def _key(name: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:ratelimit:{name}"


def hit(name: str, seconds: int) -> Count | None:
    """Count one hit of `name` in its window; None when Redis did not answer (callers let the
    request through: a throttle must not turn a Redis blip into an outage)."""
    return hit_each([(name, seconds)])[0]


def hit_each(windows: list[tuple[str, int]]) -> list[Count | None]:
    """`hit` for each (name, seconds), in one round trip to Redis."""
    if not windows:
        return []
    try:
        script = get_redis_connection("default").register_script(_HIT)  # EVALSHA, then EVAL
        counted = script(
            keys=[_key(name) for name, _ in windows],
            args=[seconds * 1000 for _, seconds in windows],
        )
    except RedisError as exc:
        names = ", ".join(name for name, _ in windows)
        logger.warning("rate limits %s not counted, Redis failed: %s", names, exc)
        return [None] * len(windows)
    return _counts(counted)


def _counts(counted: list[Any]) -> list[Count | None]:
    pairs = zip(counted[::2], counted[1::2], strict=True)
    return [Count(int(count), max(int(ttl), 0) / 1000) for count, ttl in pairs]


Read = Callable[[Any], None]  # adds a read's commands to a Redis pipeline


def hit_each_and_read(
    windows: list[tuple[str, int]], read: Read
) -> tuple[list[Count | None], list[Any]]:
    """`hit_each`, and the commands `read` adds to a pipeline, in one round trip to Redis (a
    throttled read would otherwise take two): the counts, and the read's results as Redis answered
    them. When Redis fails, the hits are not counted (as in `hit_each`) and the read is sent again
    alone, so its own error is raised as it would be without the throttles."""
    if not windows:
        return [], _run(read)
    hit = _Hit(
        _HIT_SHA,
        [_key(name) for name, _ in windows],
        [seconds * 1000 for _, seconds in windows],
    )
    try:
        try:
            counted, *results = _run(read, hit)
        except NoScriptError:  # a restarted or flushed Redis: load the script, send both again
            get_redis_connection("default").script_load(_HIT)
            counted, *results = _run(read, hit)
    except RedisError as exc:
        names = ", ".join(name for name, _ in windows)
        logger.warning("rate limits %s not counted, Redis failed: %s", names, exc)
        return [None] * len(windows), _run(read)
    return _counts(counted), results


@dataclass(frozen=True)
class _Hit:
    sha: str
    keys: list[str]
    args: list[int]


def _run(read: Read, hit: _Hit | None = None) -> list[Any]:
    pipeline = get_redis_connection("default").pipeline(transaction=False)
    if hit is not None:
        pipeline.evalsha(hit.sha, len(hit.keys), *hit.keys, *hit.args)
    read(pipeline)
    return pipeline.execute()


class _Commands(CoreCommands):
    """Records the commands redis-py's methods build, for a caller that sends them itself."""

    def __init__(self) -> None:
        self.built: list[tuple[Any, ...]] = []

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.built.append(args)
        return self


# Sends commands in one round trip: their replies in order, an error reply as its ResponseError.
Send = Callable[[list[tuple[Any, ...]]], Awaitable[list[Any]]]


async def hit_each_and_read_async(
    send: Send, windows: list[tuple[str, int]], read: Read
) -> tuple[list[Count], list[Any]]:
    """`hit_each_and_read` for the server's event loop: the same commands, sent by `send` in one
    round trip. A Redis failure is raised (RedisError): the caller hands the request to Django,
    which answers it as it would without this."""
    commands = _Commands()
    if windows:
        keys = [_key(name) for name, _ in windows]
        commands.evalsha(_HIT_SHA, len(keys), *keys, *[seconds * 1000 for _, seconds in windows])
    read(commands)
    replies = await send(commands.built)
    if windows and isinstance(replies[0], NoScriptError):  # a restarted or flushed Redis
        await send([("SCRIPT", "LOAD", _HIT)])
        replies = await send(commands.built)
    for reply in replies:
        if isinstance(reply, RedisError):
            raise reply
    if not windows:
        return [], replies
    counted, *results = replies
    return [count for count in _counts(counted) if count is not None], results


@dataclass(frozen=True)
class Reservation:
    allowed: bool
    retry_after: float  # seconds until the window that refused it ends (0 when allowed)


def reserve(names: list[str], limit: int, seconds: int) -> Reservation | None:
    """Count one hit on every counter in `names` unless one already has `limit` hits in its
    window, atomically. On a clustered Redis the names must share a hash tag ("{admin}:..."). None
    when Redis did not answer (callers let the request through, as `hit`)."""
    try:
        script = get_redis_connection("default").register_script(_RESERVE)
        allowed, ttl = script(keys=[_key(name) for name in names], args=[limit, seconds * 1000])
    except RedisError as exc:
        logger.warning("rate limits %s not counted, Redis failed: %s", ", ".join(names), exc)
        return None
    return Reservation(bool(allowed), max(int(ttl), 0) / 1000)


def release(name: str) -> None:
    """Take back one hit that `reserve` counted (never below zero)."""
    try:
        get_redis_connection("default").register_script(_RELEASE)(keys=[_key(name)])
    except RedisError as exc:
        logger.warning("rate limit %s not released, Redis failed: %s", name, exc)


def clear(name: str) -> None:
    try:
        get_redis_connection("default").delete(_key(name))
    except RedisError as exc:
        logger.warning("rate limit %s not cleared, Redis failed: %s", name, exc)
