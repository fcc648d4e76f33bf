"""Startup checks (`manage.py check`, and every process start): the throttle rates parse."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from fabrikam.apps.accounts import rate_limits

RATE_SETTINGS = ("THROTTLE_CLIENT_RATE", "THROTTLE_IP_RATE")


@checks.register(checks.Tags.security)
def throttle_rates(**kwargs: Any) -> list[checks.CheckMessage]:
    errors = []
    for name in RATE_SETTINGS:
        try:
            rate_limits.parse_rate(name, getattr(settings, name))
        except ImproperlyConfigured as exc:
            errors.append(checks.Error(str(exc), id="accounts.E001"))
    return errors
