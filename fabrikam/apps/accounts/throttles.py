"""DRF throttles, per client and per IP, counted in Redis (rate_limits) → 429 with Retry-After.

The services' own calls (`internal` scope) are not throttled: the workflow's pace is set by its
queue, and a throttled saga step would only be retried.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
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

    def allow_request(self, request: Request, view: Any) -> bool:
        return _allow(self, request, (self,))

    def window(self, request: Request) -> tuple[str, rate_limits.Rate] | None:
        """The counter this request hits and its rate; None when it is not counted."""
        key = self.key(request)
        if key is None:
            return None
        rate = rate_limits.parse_rate(self.rate_setting, getattr(settings, self.rate_setting))
        return f"{key}:{rate.seconds}", rate

    def wait(self) -> float | None:
        return None if self._wait is None else max(1, math.ceil(self._wait))


def _allow(throttle: Any, request: Request, rules: tuple[_RedisRateThrottle, ...]) -> bool:
    """Hit every rule's counter in one round trip; refused (and `throttle` told how long to wait)
    when any is over its rate."""
    principal = request.user
    if isinstance(principal, Principal) and scope.INTERNAL in principal.scopes:
        return True
    windows = [w for rule in rules if (w := rule.window(request)) is not None]
    counts = rate_limits.hit_each([(name, rate.seconds) for name, rate in windows])
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

    def allow_request(self, request: Request, view: Any) -> bool:
        return _allow(self, request, (IpRateThrottle(), ClientRateThrottle()))
