"""A business reading its delivery's status reads the delivery once: the owner check and the
status come from the same read."""

from __future__ import annotations

import pytest

from tests.deliveries.factories import DeliveryBodyFactory, delivery_id

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


def hgetall_calls(redis) -> int:
    return redis.info("commandstats").get("cmdstat_hgetall", {}).get("calls", 0)


def test_an_owner_status_read_loads_the_delivery_once(api, business_api, redis_store):
    new_id = delivery_id()
    body = DeliveryBodyFactory(owner={"userId": "acme", "accountId": "acme"})
    assert api.put(f"/api/deliveries/{new_id}", body, format="json").status_code == 201
    acme = business_api("acme")
    assert acme.get(f"/api/deliveries/{new_id}/status").status_code == 200  # warmed up
    before = hgetall_calls(redis_store)

    response = acme.get(f"/api/deliveries/{new_id}/status")

    assert response.status_code == 200
    assert response.json()["stage"] == "Created"
    assert hgetall_calls(redis_store) - before == 1


def test_another_business_still_gets_a_404(api, business_api, redis_store):
    new_id = delivery_id()
    body = DeliveryBodyFactory(owner={"userId": "acme", "accountId": "acme"})
    assert api.put(f"/api/deliveries/{new_id}", body, format="json").status_code == 201

    assert business_api("fabrikam").get(f"/api/deliveries/{new_id}/status").status_code == 404
