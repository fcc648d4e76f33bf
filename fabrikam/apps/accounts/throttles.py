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
        principal = request.user
        if isinstance(principal, Principal) and scope.INTERNAL in principal.scopes:
            return True
        key = self.key(request)
        if key is None:
            return True
        rate = rate_limits.parse_rate(self.rate_setting, getattr(settings, self.rate_setting))
        count = rate_limits.hit(f"{key}:{rate.seconds}", rate.seconds)
        if count is None or count.hits <= rate.limit:
            return True
        self._wait = count.retry_after
        return False

    def wait(self) -> float | None:
        return None if self._wait is None else max(1, math.ceil(self._wait))


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
