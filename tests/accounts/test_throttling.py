"""Throttles per client and per IP, counted in Redis: 429 with Retry-After."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests.support import auth

SUMMARY = "/api/deliveries/summary?ownerId={owner}&year=2026&month=12"

pytestmark = pytest.mark.django_db


def assert_throttled(response) -> None:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["status"] == 429


@override_settings(THROTTLE_CLIENT_RATE="3/minute", THROTTLE_IP_RATE="1000/minute")
def test_a_client_over_its_rate_gets_429_and_others_do_not(business_api, redis_store):
    acme, globex = business_api("acme"), business_api("globex")
    for _ in range(3):
        assert acme.get(SUMMARY.format(owner="acme")).status_code == 200
    assert_throttled(acme.get(SUMMARY.format(owner="acme")))
    assert globex.get(SUMMARY.format(owner="globex")).status_code == 200


@override_settings(THROTTLE_CLIENT_RATE="1000/minute", THROTTLE_IP_RATE="4/minute")
def test_one_ip_over_its_rate_gets_429_with_or_without_a_token(business_api, redis_store):
    anonymous = APIClient()
    for _ in range(2):
        assert anonymous.get("/api/deliveries/public/nope").status_code == 404
    acme = business_api("acme")
    for _ in range(2):
        assert acme.get(SUMMARY.format(owner="acme")).status_code == 200
    assert_throttled(anonymous.get("/api/deliveries/public/nope"))
    assert_throttled(acme.get(SUMMARY.format(owner="acme")))
    elsewhere = APIClient(REMOTE_ADDR="203.0.113.9")
    assert elsewhere.get("/api/deliveries/public/nope").status_code == 404


@override_settings(THROTTLE_CLIENT_RATE="1000/minute", THROTTLE_IP_RATE="2/minute")
def test_a_forwarded_for_header_is_trusted_only_behind_the_configured_proxies(redis_store):
    spoofer = APIClient()
    for forged in ("198.51.100.1", "198.51.100.2"):
        spoofer.get("/api/deliveries/public/nope", HTTP_X_FORWARDED_FOR=forged)
    assert_throttled(
        spoofer.get("/api/deliveries/public/nope", HTTP_X_FORWARDED_FOR="198.51.100.3")
    )

    from rest_framework.settings import api_settings

    with override_settings(REST_FRAMEWORK={**_rest_framework(), "NUM_PROXIES": 1}):
        assert api_settings.NUM_PROXIES == 1
        behind_ingress = APIClient()
        response = behind_ingress.get(
            "/api/deliveries/public/nope", HTTP_X_FORWARDED_FOR="198.51.100.4"
        )
        assert response.status_code == 404


def _rest_framework() -> dict:
    from django.conf import settings

    return dict(settings.REST_FRAMEWORK)


@override_settings(THROTTLE_CLIENT_RATE="2/minute", THROTTLE_IP_RATE="2/minute")
def test_the_services_own_calls_are_not_throttled(redis_store):
    internal = auth.api_client("internal")
    for _ in range(5):
        assert internal.get("/api/deliveries/public/nope").status_code == 404
