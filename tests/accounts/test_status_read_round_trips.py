"""A business reading its delivery's status reads the delivery once: the owner check and the
status come from the same read, sent to Redis with the throttles' hits in one round trip."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from fabrikam.apps.accounts import rate_limits
from tests.deliveries.factories import DeliveryBodyFactory, delivery_id

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


def hash_reads(redis) -> int:
    stats = redis.info("commandstats")
    return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("hgetall", "hmget"))


def test_an_owner_status_read_loads_the_delivery_once(api, business_api, redis_store):
    new_id = delivery_id()
    body = DeliveryBodyFactory(owner={"userId": "acme", "accountId": "acme"})
    assert api.put(f"/api/deliveries/{new_id}", body, format="json").status_code == 201
    acme = business_api("acme")
    assert acme.get(f"/api/deliveries/{new_id}/status").status_code == 200  # warmed up
    before = hash_reads(redis_store)

    response = acme.get(f"/api/deliveries/{new_id}/status")

    assert response.status_code == 200
    assert response.json()["stage"] == "Created"
    assert hash_reads(redis_store) - before == 1


def test_another_business_still_gets_a_404(api, business_api, redis_store):
    new_id = delivery_id()
    body = DeliveryBodyFactory(owner={"userId": "acme", "accountId": "acme"})
    assert api.put(f"/api/deliveries/{new_id}", body, format="json").status_code == 201

    assert business_api("fabrikam").get(f"/api/deliveries/{new_id}/status").status_code == 404


@pytest.mark.parametrize("public", [False, True])
def test_a_status_read_is_one_round_trip_with_its_throttles(
    api, business_api, redis_store, redis_round_trips, public
):
    new_id = delivery_id()
    body = DeliveryBodyFactory(owner={"userId": "acme", "accountId": "acme"})
    assert api.put(f"/api/deliveries/{new_id}", body, format="json").status_code == 201
    client = APIClient() if public else business_api("acme")
    path = (
        f"/api/deliveries/public/{new_id}/status" if public else f"/api/deliveries/{new_id}/status"
    )
    assert client.get(path).status_code == 200  # warmed up: the script loaded, the client known
    redis_round_trips.clear()

    response = client.get(path)

    assert response.status_code == 200
    assert response.json()["stage"] == "Created"
    assert len(redis_round_trips) == 1
    assert len(redis_store.keys("*ratelimit:ip:*")) == 1


def test_a_status_read_loads_the_throttle_script_when_redis_lost_it(api, business_api, redis_store):
    new_id = delivery_id()
    body = DeliveryBodyFactory(owner={"userId": "acme", "accountId": "acme"})
    assert api.put(f"/api/deliveries/{new_id}", body, format="json").status_code == 201
    acme = business_api("acme")
    assert acme.get(f"/api/deliveries/{new_id}/status").status_code == 200
    redis_store.script_flush()

    response = acme.get(f"/api/deliveries/{new_id}/status")

    assert response.status_code == 200
    client_key = next(k for k in redis_store.keys("*ratelimit:client:*"))
    assert int(redis_store.get(client_key)) == 2  # counted both times


def test_a_counter_redis_cannot_count_lets_the_read_through_as_without_a_pipeline(redis_store):
    """A throttle that fails lets the request through; the read is still answered."""
    broken = rate_limits._key("broken")
    redis_store.hset(broken, "not", "a counter")  # INCR answers WRONGTYPE
    redis_store.set("plain", "value")

    counts, (value,) = rate_limits.hit_each_and_read([("broken", 60)], lambda p: p.get("plain"))

    assert counts == rate_limits.hit_each([("broken", 60)]) == [None]
    assert value == b"value"
