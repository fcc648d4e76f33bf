"""Concurrent writes of the same delivery, from real threads against the real Redis."""

from __future__ import annotations

import threading

import pytest

from tests.deliveries.conftest import stages
from tests.deliveries.factories import DeliveryBodyFactory, OwnerFactory, delivery_id
from tests.support import auth

pytestmark = [pytest.mark.redis]

THREADS = 16


def race(requests) -> list:
    """Run the callables at the same moment, one thread each; their results in order."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = requests[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_concurrent_puts_leave_one_record_and_one_created_event(api, redis_store):
    new_id = delivery_id()
    owner = OwnerFactory()
    # The same delivery as the workflow would redeliver it, with a different drone each time.
    bodies = [DeliveryBodyFactory(owner=owner, droneId=f"drone-{n}") for n in range(THREADS)]
    clients = [auth.api_client() for _ in bodies]

    responses = race(
        [
            (lambda c=c, b=b: c.put(f"/api/deliveries/{new_id}", b, format="json"))
            for c, b in zip(clients, bodies, strict=True)
        ]
    )

    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * (THREADS - 1) + [201]
    assert stages(api, new_id) == ["Created"]
    stored = api.get(f"/api/deliveries/{new_id}").json()
    winner = next(b for b in bodies if b["droneId"] == stored["droneId"])
    assert stored["pickup"] == winner["pickup"]  # one body's fields, not a mix of several
    assert stored["dropoff"] == winner["dropoff"]
    assert stored["packageId"] == winner["packageId"]
    summary = api.get(
        "/api/deliveries/summary", {"ownerId": owner["userId"], "year": 2026, "month": 12}
    )
    assert summary.json() == {"count": 1}


def test_concurrent_cancels_record_one_cancelled_event(api, create):
    new_id, _ = create()
    clients = [auth.api_client() for _ in range(THREADS)]

    responses = race([(lambda c=c: c.delete(f"/api/deliveries/{new_id}")) for c in clients])

    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["cancelledAt"] for r in responses}) == 1
    assert stages(api, new_id) == ["Created", "Cancelled"]
