"""The delivery service, reached over HTTP (the scheduler never imports the deliveries app)."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from django.conf import settings

from fabrikam.apps.accounts import service_tokens
from fabrikam.contract.bodies import TrackingUpdate
from fabrikam.interservice.http import ServiceClient, policy_from_settings


@cache
def _client(base_url: str) -> ServiceClient:
    # One try per call: the next flight tick is the retry, and a tick must not sleep on one drone.
    return ServiceClient(
        "delivery",
        base_url,
        replace(policy_from_settings(), attempts=1),
        authorization=service_tokens.authorization,
    )


def deliveries() -> ServiceClient:
    return _client(settings.SERVICE_URL_DELIVERY)


def post_tracking(delivery_id: str, update: TrackingUpdate) -> None:
    """`POST /api/deliveries/{id}/tracking` (API.md): the flight's stage, position and ETAs."""
    deliveries().post(f"/api/deliveries/{delivery_id}/tracking", update)
