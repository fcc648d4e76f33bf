"""DRF throttles, per client and per IP, counted in Redis (rate_limits) → 429 with Retry-After.

The services' own calls (`internal` scope) are not throttled: the workflow's pace is set by its
queue, and a throttled saga step would only be retried.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from fabrikam.apps.accounts import rate_limits
from fabrikam.apps.accounts import scopes as scope
from fabrikam.apps.accounts.principal import Principal


class _RedisRateThrottle(BaseThrottle):
    rate_setting: str = ""

    def __init__(self) -> None:
        self._wait: float | None = None

    def key(self, request: Request) -> str | None:
        raise NotImplementedError

    def rules(self) -> tuple[_RedisRateThrottle, ...]:
        """The rules this throttle counts (each its own counter), in one round trip."""
        return (self,)

    def allow_request(self, request: Request, view: Any) -> bool:
        windows = _windows(request, self.rules())
        if not windows:
            return True
        return _judge(self, windows, rate_limits.hit_each(_names(windows)))

    def window(self, request: Request) -> tuple[str, rate_limits.Rate] | None:
        """The counter this request hits and its rate; None when it is not counted."""
        key = self.key(request)
        if key is None:
            return None
        rate = rate_limits.parse_rate(self.rate_setting, getattr(settings, self.rate_setting))
        return f"{key}:{rate.seconds}", rate

    def wait(self) -> float | None:
        return None if self._wait is None else max(1, math.ceil(self._wait))


Window = tuple[str, rate_limits.Rate]


def _windows(request: Request, rules: Sequence[_RedisRateThrottle]) -> list[Window]:
    """The counters this request hits; none for the services' own calls."""
    principal = request.user
    if isinstance(principal, Principal) and scope.INTERNAL in principal.scopes:
        return []
    return [w for rule in rules if (w := rule.window(request)) is not None]


def _names(windows: list[Window]) -> list[tuple[str, int]]:
    return [(name, rate.seconds) for name, rate in windows]


def _judge(
    throttle: _RedisRateThrottle, windows: list[Window], counts: list[rate_limits.Count | None]
) -> bool:
    """Refused (and `throttle` told how long to wait) when any counter is over its rate."""
    over = [
        count.retry_after
        for (_, rate), count in zip(windows, counts, strict=True)
        if count is not None and count.hits > rate.limit
    ]
    if not over:
        return True
    throttle._wait = max(over)
    return False


class ClientRateThrottle(_RedisRateThrottle):
    """THROTTLE_CLIENT_RATE for each API client, whichever IPs it calls from."""

    rate_setting = "THROTTLE_CLIENT_RATE"

    def key(self, request: Request) -> str | None:
        principal = request.user
        if not isinstance(principal, Principal):
            return None
        return f"client:{principal.client_id or principal.subject}"


class IpRateThrottle(_RedisRateThrottle):
    """THROTTLE_IP_RATE for each client IP (behind TRUSTED_PROXY_COUNT proxies), with or without
    a token."""

    rate_setting = "THROTTLE_IP_RATE"

    def key(self, request: Request) -> str | None:
        return f"ip:{self.get_ident(request)}"


class ClientAndIpRateThrottle(_RedisRateThrottle):
    """Both rules above (THROTTLE_IP_RATE per IP, THROTTLE_CLIENT_RATE per client) counted in one
    round trip to Redis: the default throttle of every API view."""

    def rules(self) -> tuple[_RedisRateThrottle, ...]:
        return (IpRateThrottle(), ClientRateThrottle())


# For a read-only APIView: its throttles are counted in the same Redis round trip as its read
# (`throttled_read`, the first thing its `get` does) instead of one of their own before it. The
# outcome is DRF's: over a rate answers 429 before the view uses what it read, and the read changes
# nothing. Other methods (OPTIONS), and throttles that do not count in Redis, are checked by DRF as
# usual. (A comment, not a docstring: drf-spectacular would put it in the views' OpenAPI text.)
class ThrottledWithRead:
    _deferred: list[_RedisRateThrottle] | None = None

    def defers_throttles(self, request: Request) -> bool:
        return request.method in ("GET", "HEAD")

    def check_throttles(self, request: Request) -> None:
        throttles = self.get_throttles()  # type: ignore[attr-defined]
        if self.defers_throttles(request) and deferrable(throttles):
            self._deferred = throttles
            return
        super().check_throttles(request)  # type: ignore[misc]

    def throttled_read(self, request: Request, read: rate_limits.Read) -> list[Any]:
        """`read`'s results, its commands sent with the deferred throttles' hits."""
        throttles, self._deferred = self._deferred, None
        if throttles is None:  # checked already (or not deferred): the read alone
            return rate_limits.hit_each_and_read([], read)[1]
        plans = plan(request, throttles)
        names = planned_names(plans)
        # The hits the server counted already for this request (it found something only Django
        # answers after its own round trip: a 404, a 429) are not counted twice.
        counted = request.META.get(rate_limits.COUNTED) or {}
        uncounted = [n for n in names if n[0] not in counted]
        fresh, results = rate_limits.hit_each_and_read(uncounted, read)
        by_name = {**counted, **dict(zip((name for name, _ in uncounted), fresh, strict=True))}
        waits = refusals(plans, [by_name[name] for name, _ in names])
        if waits:  # as DRF's check_throttles
            self.throttled(request, max((w for w in waits if w is not None), default=None))  # type: ignore[attr-defined]
        return results


Plan = list[tuple[_RedisRateThrottle, list[Window]]]


def deferrable(throttles: Sequence[Any]) -> bool:
    """Whether these throttles all count in Redis (so with a read: `ThrottledWithRead`)."""
    return all(isinstance(t, _RedisRateThrottle) for t in throttles)


def plan(request: Any, throttles: Sequence[_RedisRateThrottle]) -> Plan:
    """Each throttle and the counters it hits for this request (none for the services' own)."""
    return [(t, _windows(request, t.rules())) for t in throttles]


def planned_names(plans: Plan) -> list[tuple[str, int]]:
    return [n for _, windows in plans for n in _names(windows)]


def refusals(plans: Plan, counts: list[rate_limits.Count | None]) -> list[float | None]:
    """The waits of the throttles that refuse the request, given its counts (in plan order)."""
    waits = []
    for throttle, windows in plans:
        mine, counts = counts[: len(windows)], counts[len(windows) :]
        if windows and not _judge(throttle, windows, mine):
            waits.append(throttle.wait())
    return waits


# For a view whose request makes a Redis write anyway (ingestion's owner record of a new delivery):
# its throttles are counted in the same round trip as that write (`throttled_write`), where
# `defers_throttles` says so. Whatever refuses the request before then (its media type, its body,
# its owner) first counts them alone, as DRF would have before the view, so a request over its
# rate is a 429 whatever else is wrong with it, and every request is counted once. A write sent
# with hits that refuse the request (Throttled raised after it) is the caller's to undo.
class ThrottledWithWrite(ThrottledWithRead):
    def defers_throttles(self, request: Request) -> bool:
        return False

    def throttled_write(self, request: Request, write: rate_limits.Read) -> list[Any]:
        """`write`'s results, its commands sent with the deferred throttles' hits."""
        return self.throttled_read(request, write)

    def handle_exception(self, exc: Exception) -> Any:
        if self._deferred is not None:  # refused before its write: count the throttles now
            self._deferred = None
            try:
                super(ThrottledWithRead, self).check_throttles(self.request)  # type: ignore[misc]
            except Throttled as throttled:
                exc = throttled
        return super().handle_exception(exc)  # type: ignore[misc]
