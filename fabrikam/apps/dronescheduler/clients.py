"""The delivery service, reached over HTTP (the scheduler never imports the deliveries app)."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings

from fabrikam.http import ServiceClient


@cache
def _client(base_url: str, timeout: float) -> ServiceClient:
    return ServiceClient("delivery", base_url, timeout=timeout)


def deliveries() -> ServiceClient:
    return _client(settings.SERVICE_URL_DELIVERY, settings.HTTP_CLIENT_TIMEOUT)


def post_tracking(delivery_id: str, update: dict[str, Any]) -> None:
    """`POST /api/deliveries/{id}/tracking` (API.md): the flight's stage, position and ETAs."""
    deliveries().request("POST", f"/api/deliveries/{delivery_id}/tracking", update)
