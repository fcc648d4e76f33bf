"""Both throttles (per client and per IP) are counted in one call to Redis, and both still count."""

from __future__ import annotations

import pytest
from django.test import override_settings

from fabrikam.apps.accounts import rate_limits

pytestmark = pytest.mark.django_db

SUMMARY = "/api/deliveries/summary?ownerId=acme&year=2026&month=12"


def script_calls(redis) -> int:
    stats = redis.info("commandstats")
    return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("evalsha", "eval"))


@override_settings(THROTTLE_CLIENT_RATE="50/minute", THROTTLE_IP_RATE="40/minute")
def test_one_script_call_counts_the_client_and_the_ip(business_api, redis_store):
    acme = business_api("acme")
    assert acme.get(SUMMARY).status_code == 200  # the script is loaded
    before = script_calls(redis_store)

    for _ in range(5):
        assert acme.get(SUMMARY).status_code == 200

    assert script_calls(redis_store) - before == 5
    client_key = next(k for k in redis_store.keys("*ratelimit:client:*"))
    ip_key = next(k for k in redis_store.keys("*ratelimit:ip:*"))
    assert int(redis_store.get(client_key)) == int(redis_store.get(ip_key)) == 6


def test_hit_each_counts_each_window_on_its_own(redis_store):
    first = rate_limits.hit_each([("a", 60), ("b", 1)])
    second = rate_limits.hit_each([("a", 60)])
    assert [c.hits for c in first] == [1, 1]
    assert second[0].hits == 2
    assert 59 < second[0].retry_after <= 60
    assert 0 < first[1].retry_after <= 1
