"""GET /api/deliveries/summary counts the stored deliveries of an owner in a month."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

import pytest

from tests.deliveries.factories import OwnerFactory
from tests.support.live import wait_until

pytestmark = [pytest.mark.redis]

MONTHS = [(2026, 11), (2026, 12), (2027, 1)]


def count(api, owner_id: str, year: int, month: int) -> int:
    response = api.get(
        "/api/deliveries/summary", {"ownerId": owner_id, "year": year, "month": month}
    )
    assert response.status_code == 200, response.content
    return response.json()["count"]


def test_counts_match_the_stored_deliveries_across_owners_and_months(api, create):
    owners = [OwnerFactory()["userId"] for _ in range(3)]
    rng = random.Random(5)
    created = Counter()
    for _ in range(30):
        owner = rng.choice(owners)
        year, month = rng.choice(MONTHS)
        day = rng.randint(1, 28)
        new_id, _ = create(
            owner={"userId": owner, "accountId": "acct"},
            pickupTime=f"{year}-{month:02d}-{day:02d}T23:30:00Z",
        )
        stored = api.get(f"/api/deliveries/{new_id}").json()
        assert stored["owner"]["userId"] == owner
        created[(owner, year, month)] += 1

    counted = {(o, y, m): count(api, o, y, m) for o in owners for (y, m) in MONTHS}

    assert counted == {key: created[key] for key in counted}
    assert sum(counted.values()) == 30


def test_rescheduling_to_another_month_moves_the_count(api, create):
    new_id, body = create(pickupTime="2026-11-30T22:00:00Z")
    owner = body["owner"]["userId"]

    api.patch(f"/api/deliveries/{new_id}", {"pickupTime": "2026-12-01T08:00:00Z"}, format="json")

    assert (count(api, owner, 2026, 11), count(api, owner, 2026, 12)) == (0, 1)


def test_replacing_with_another_pickup_month_moves_the_count(api, create):
    new_id, body = create(pickupTime="2026-11-30T22:00:00Z")
    owner = body["owner"]["userId"]

    api.put(
        f"/api/deliveries/{new_id}", {**body, "pickupTime": "2027-01-02T08:00:00Z"}, format="json"
    )

    assert (count(api, owner, 2026, 11), count(api, owner, 2027, 1)) == (0, 1)


def test_without_a_pickup_time_it_counts_in_its_creation_month(api, create):
    _, body = create(pickupTime=None)
    today = datetime.now(UTC)
    assert count(api, body["owner"]["userId"], today.year, today.month) == 1


def test_a_cancelled_delivery_counts_until_it_expires(api, create, settings):
    settings.DELIVERY_CANCELLED_TTL_SECONDS = 1
    new_id, body = create(pickupTime="2026-12-05T10:00:00Z")
    owner = body["owner"]["userId"]
    api.delete(f"/api/deliveries/{new_id}")
    assert count(api, owner, 2026, 12) == 1

    wait_until(
        lambda: api.get(f"/api/deliveries/{new_id}").status_code == 404,
        5,
        "Redis to expire the cancelled delivery",
    )

    assert count(api, owner, 2026, 12) == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"year": 2026, "month": 12}, "ownerId"),
        ({"ownerId": "o", "month": 12}, "year"),
        ({"ownerId": "o", "year": "twenty", "month": 12}, "year"),
        ({"ownerId": "o", "year": 2026, "month": 13}, "month"),
        ({"ownerId": "o", "year": 2026, "month": 0}, "month"),
    ],
)
def test_bad_parameters_are_400_naming_them(api, redis_store, query, field):
    response = api.get("/api/deliveries/summary", query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_an_owner_with_no_deliveries_counts_zero(api, redis_store):
    assert count(api, "nobody", 2026, 12) == 0
