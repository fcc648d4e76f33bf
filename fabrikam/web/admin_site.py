"""The back office's admin site: Django's, with failed logins throttled.

After ADMIN_LOGIN_MAX_FAILURES failed logins from one IP, or for one username, within
ADMIN_LOGIN_LOCKOUT_SECONDS, further attempts answer 429 without checking the password until the
window ends. Counted in Redis, so every admin pod shares the count.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from rest_framework.throttling import BaseThrottle

from fabrikam.apps.accounts import rate_limits


class AdminSite(admin.AdminSite):
    site_header = "Fabrikam Drone Delivery"
    site_title = "Fabrikam back office"

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if request.method != "POST":
            return super().login(request, extra_context)
        ip_counter, user_counter = _counters(request)
        # The attempt is counted before the password is checked, in the same atomic step as the
        # lockout check: concurrent guesses cannot all pass a check made before any was counted.
        reservation = rate_limits.reserve(
            [ip_counter, user_counter],
            settings.ADMIN_LOGIN_MAX_FAILURES,
            settings.ADMIN_LOGIN_LOCKOUT_SECONDS,
        )
        if reservation is not None and not reservation.allowed:
            return self._locked(request, reservation.retry_after)
        response = super().login(request, extra_context)
        if request.user.is_authenticated:  # not a failure: take the attempt back
            rate_limits.clear(user_counter)
            rate_limits.release(ip_counter)
        return response

    def _locked(self, request: HttpRequest, retry_after: float) -> HttpResponse:
        seconds = max(1, math.ceil(retry_after))
        response = TemplateResponse(
            request,
            "admin/login_locked.html",
            {
                **self.each_context(request),
                "title": "Too many failed logins",
                "minutes": math.ceil(seconds / 60),
            },
            status=429,
        )
        response["Retry-After"] = str(seconds)
        return response


def _counters(request: HttpRequest) -> tuple[str, str]:
    ip = BaseThrottle().get_ident(request)  # honours TRUSTED_PROXY_COUNT, like the API throttles
    username = str(request.POST.get("username", "")).strip().lower()[:150]
    # One hash tag: the lockout script reads both counters, which on a clustered Redis must live
    # in one slot.
    return f"{{admin-login}}:ip:{ip}", f"{{admin-login}}:user:{username}"


class AdminConfig(DjangoAdminConfig):
    default_site = "fabrikam.web.admin_site.AdminSite"
