"""Many workers assigning at once never share a drone: real threads, each with its own database
connection, against the database the suite runs on (SQLite locally, PostgreSQL in CI)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
from django.db import connection, connections, transaction

from fabrikam.apps.dronescheduler import services
from fabrikam.apps.dronescheduler.models import Drone, DroneDelivery, DroneStatus
from tests.dronescheduler.factories import SEATTLE, DroneFactory, assignment_body, north_of
from tests.support import auth
from tests.support.tools import missing

pytestmark = pytest.mark.django_db(transaction=True)
T = TypeVar("T")


def all_at_once(count: int, work: Callable[[int], T]) -> list[T]:
    """Run work(0..count-1) on `count` threads released together; each closes its connection."""
    start = threading.Barrier(count)

    def run(index: int) -> T:
        try:
            start.wait(timeout=30)
            return work(index)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def assign_over_http(delivery_id: str) -> tuple[int, str | None]:
    response = auth.api_client().put(
        f"/api/dronedeliveries/{delivery_id}", assignment_body(), format="json"
    )
    return response.status_code, response.json().get("droneId")


def test_fifty_concurrent_requests_for_ten_drones_assign_each_drone_once():
    for km in range(10):
        DroneFactory(at=north_of(SEATTLE, km * 0.3))

    answers = all_at_once(50, lambda i: assign_over_http(f"concurrent-{i}"))

    statuses = Counter(status for status, _ in answers)
    assert statuses == {200: 10, 409: 40}
    drones = [drone for status, drone in answers if status == 200]
    assert len(set(drones)) == 10
    assert Drone.objects.filter(status=DroneStatus.ASSIGNED).count() == 10
    assigned = DroneDelivery.objects.values_list("drone_id", flat=True)
    assert sorted(assigned) == sorted(drones)


def test_concurrent_repeats_of_one_delivery_get_one_drone():
    DroneFactory.create_batch(5)

    answers = all_at_once(12, lambda i: assign_over_http("same-delivery"))

    assert {status for status, _ in answers} == {200}
    assert len({drone for _, drone in answers}) == 1
    assert DroneDelivery.objects.count() == 1
    assert Drone.objects.filter(status=DroneStatus.AVAILABLE).count() == 4


@pytest.mark.postgres
def test_on_postgresql_a_drone_another_transaction_holds_is_skipped_not_waited_for():
    if connection.vendor != "postgresql":
        missing("needs PostgreSQL: set DATABASE_URL=postgres://...")
    DroneFactory(id="nearest", at=north_of(SEATTLE, 0.1))
    DroneFactory(id="second", at=north_of(SEATTLE, 0.5))
    locked, finish = threading.Event(), threading.Event()

    def hold_nearest() -> None:
        try:
            with transaction.atomic():
                Drone.objects.select_for_update().get(pk="nearest")
                locked.set()
                finish.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_nearest)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")  # waiting instead of skipping would fail
        assignment = services.assign_drone(
            services.AssignmentRequest(
                delivery_id="while-locked",
                owner_id="contoso",
                pickup=SEATTLE,
                dropoff=north_of(SEATTLE, 2),
                packages=(services.PackageDetail("p", "Small", 1.0),),
            )
        )
        assert assignment.drone_id == "second"
    finally:
        finish.set()
        holder.join(timeout=30)
    assert Drone.objects.get(pk="nearest").status == DroneStatus.AVAILABLE
