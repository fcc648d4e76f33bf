from __future__ import annotations

from typing import Any

import pytest

from tests.deliveries.factories import DeliveryBodyFactory, delivery_id


@pytest.fixture
def create(api, redis_store):
    """PUT a new delivery; returns (id, the body sent)."""

    def create(**fields: Any) -> tuple[str, dict[str, Any]]:
        new_id = delivery_id()
        body = DeliveryBodyFactory(**fields)
        response = api.put(f"/api/deliveries/{new_id}", body, format="json")
        assert response.status_code == 201, response.content
        return new_id, body

    return create


def stages(api, delivery_id: str) -> list[str]:
    response = api.get(f"/api/deliveries/{delivery_id}/events")
    assert response.status_code == 200, response.content
    return [event["stage"] for event in response.json()]
