"""Idempotency keys are per API client (issue 16): a key one business used neither blocks nor
answers another business's request, in either direction, and cannot be probed."""

from __future__ import annotations

import pytest

from tests.accounts.conftest import business_api  # noqa: F401 - fixture
from tests.ingestion.factories import DeliveryRequestFactory

pytestmark = pytest.mark.django_db

URL = "/api/deliveryrequests"
KEY = "order-2026-0001"


def post_with_key(client, body: dict):
    return client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)


@pytest.mark.parametrize(("first", "second"), [("acme", "globex"), ("globex", "acme")])
def test_a_key_used_by_one_business_does_not_affect_another(
    business_api,  # noqa: F811 - the fixture imported above
    received,
    first,
    second,
):
    clients = {owner: business_api(owner) for owner in (first, second)}
    bodies = {owner: DeliveryRequestFactory(ownerId=owner) for owner in (first, second)}

    earlier = post_with_key(clients[first], bodies[first])
    later = post_with_key(clients[second], bodies[second])  # another body under the same key

    assert earlier.status_code == later.status_code == 202, later.content
    assert earlier.json()["deliveryId"] != later.json()["deliveryId"]
    assert sorted(m.body["ownerId"] for m in received()) == sorted([first, second])
    # Each business's own retry still gets its own delivery back, and nothing new is queued.
    again = post_with_key(clients[second], bodies[second])
    assert (again.status_code, again.json()["deliveryId"]) == (202, later.json()["deliveryId"])
    assert received() == []


def test_a_business_cannot_tell_whether_another_used_a_key(business_api, received):  # noqa: F811
    acme, globex = business_api("acme"), business_api("globex")
    post_with_key(acme, DeliveryRequestFactory(ownerId="acme"))

    probe = post_with_key(globex, DeliveryRequestFactory(ownerId="globex"))

    assert probe.status_code == 202  # not the 422 of a key reused with another body
