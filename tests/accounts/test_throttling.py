"""Throttles per client and per IP, counted in Redis: 429 with Retry-After."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests.deliveries.factories import DeliveryBodyFactory, delivery_id
from tests.support import auth

SUMMARY = "/api/deliveries/summary?ownerId={owner}&year=2026&month=12"
# DRF counts the throttles before the view (the summary, a public delivery); the status reads
# count them in the same round trip as their read (ThrottledWithRead): the same rules for both.
OWNED = ["summary", "status"]
PUBLIC = ["/api/deliveries/public/{id}", "/api/deliveries/public/{id}/status"]


@pytest.fixture
def owned_path(request, api, redis_store):
    """A path to something of acme's (or globex's) that it may read."""

    def path(owner: str) -> str:
        if request.param == "summary":
            return SUMMARY.format(owner=owner)
        new_id = delivery_id()
        body = DeliveryBodyFactory(owner={"userId": owner, "accountId": owner})
        assert api.put(f"/api/deliveries/{new_id}", body, format="json").status_code == 201
        return f"/api/deliveries/{new_id}/status"

    return path


pytestmark = pytest.mark.django_db


def assert_throttled(response) -> None:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["status"] == 429


@pytest.mark.parametrize("owned_path", OWNED, indirect=True)
@override_settings(THROTTLE_CLIENT_RATE="3/minute", THROTTLE_IP_RATE="1000/minute")
def test_a_client_over_its_rate_gets_429_and_others_do_not(business_api, owned_path):
    acme, globex = business_api("acme"), business_api("globex")
    acmes, globexs = owned_path("acme"), owned_path("globex")
    for _ in range(3):
        assert acme.get(acmes).status_code == 200
    assert_throttled(acme.get(acmes))
    assert globex.get(globexs).status_code == 200


@pytest.mark.parametrize("owned_path", OWNED, indirect=True)
@override_settings(THROTTLE_CLIENT_RATE="3/minute", THROTTLE_IP_RATE="1000/minute")
def test_a_throttled_client_gets_429_even_for_another_business_delivery(business_api, owned_path):
    acme, globexs = business_api("acme"), owned_path("globex")
    for _ in range(3):
        assert acme.get(globexs).status_code in (403, 404)  # the summary 403s, a status 404s
    assert_throttled(acme.get(globexs))


@pytest.mark.parametrize("public", PUBLIC)
@pytest.mark.parametrize("owned_path", OWNED, indirect=True)
@override_settings(THROTTLE_CLIENT_RATE="1000/minute", THROTTLE_IP_RATE="4/minute")
def test_one_ip_over_its_rate_gets_429_with_or_without_a_token(business_api, owned_path, public):
    anonymous, nope = APIClient(), public.format(id="nope")
    acme, acmes = business_api("acme"), owned_path("acme")
    for _ in range(2):
        assert anonymous.get(nope).status_code == 404
    for _ in range(2):
        assert acme.get(acmes).status_code == 200
    assert_throttled(anonymous.get(nope))
    assert_throttled(acme.get(acmes))
    elsewhere = APIClient(REMOTE_ADDR="203.0.113.9")
    assert elsewhere.get(nope).status_code == 404


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


@pytest.mark.parametrize("public", PUBLIC)
@override_settings(THROTTLE_CLIENT_RATE="2/minute", THROTTLE_IP_RATE="2/minute")
def test_the_services_own_calls_are_not_throttled(redis_store, public):
    internal = auth.api_client("internal")
    for _ in range(5):
        assert internal.get(public.format(id="nope")).status_code == 404


@pytest.mark.parametrize("public", PUBLIC)
@override_settings(THROTTLE_CLIENT_RATE="1000/minute", THROTTLE_IP_RATE="2/minute")
def test_options_is_throttled_like_get(redis_store, public):
    anonymous = APIClient()
    for _ in range(2):
        assert anonymous.options(public.format(id="nope")).status_code == 200
    assert_throttled(anonymous.options(public.format(id="nope")))
    assert_throttled(anonymous.get(public.format(id="nope")))
