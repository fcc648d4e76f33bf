"""What one delivery's saga costs its stores in the `all` role (in-process calls): the SQL
statements and write transactions, and the Redis round trips. A count, not a time: a statement or
a round trip added to every delivery fails here."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fabrikam.apps.dronescheduler.models import Drone, DroneStatus
from fabrikam.apps.workflow import services
from tests.dronescheduler.factories import DroneFactory

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True, databases="__all__")]

CONTROL = re.compile(r"^(BEGIN|COMMIT|SAVEPOINT|RELEASE SAVEPOINT)\b|pg_advisory_xact_lock")


@pytest.fixture
def in_process(settings) -> None:
    settings.FABRIKAM_ROLE = "all"
    settings.WORKFLOW_IN_PROCESS_CALLS = True


def message() -> dict[str, Any]:
    delivery_id = uuid.uuid4().hex
    return {
        "operation": "delivery",
        "deliveryId": delivery_id,
        "ownerId": "contoso",
        "pickup": {"latitude": 47.61, "longitude": -122.33},
        "dropoff": {"latitude": 47.62, "longitude": -122.34},
        "pickupTime": "2026-12-01T10:00:00Z",
        "deadline": "",
        "packageInfo": {"packageId": f"pkg-{delivery_id[:8]}", "size": "Small", "weight": 1.5},
    }


def statement(sql: str) -> str:
    """`INSERT packages_package`, `SELECT dronescheduler_drone`…: the verb and the first table."""
    verb = sql.split()[0].upper()
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql, re.IGNORECASE)
    return f"{verb} {table.group(1) if table else '?'}"


def test_a_delivery_writes_in_two_transactions_of_six_statements(in_process, redis_store):
    DroneFactory.create_batch(3)
    services.handle(message())  # the first delivery warms what is cached per process

    with CaptureQueriesContext(connection) as queries:
        outcome = services.handle(message())

    assert outcome.status == services.Status.COMPLETED
    assert Drone.objects.filter(status=DroneStatus.ASSIGNED).count() == 2
    sql = [q["sql"] for q in queries.captured_queries]
    assert [statement(s) for s in sql if not CONTROL.search(s)] == [
        "INSERT packages_package",  # the package PUT
        "SELECT dronescheduler_dronedelivery",  # assigned already? (a repeat gets it back)
        "SELECT dronescheduler_drone",  # the nearest available drone
        "UPDATE dronescheduler_drone",  # … taken
        "INSERT dronescheduler_dronedelivery",
        "INSERT dronescheduler_flight",
    ]
    commits = [s for s in sql if s.upper().startswith("COMMIT")]
    if connection.vendor == "sqlite":
        assert len(commits) == 2  # one per write step, each a single BEGIN IMMEDIATE … COMMIT
        assert sum(s.upper() == "BEGIN IMMEDIATE" for s in sql) == 2


def test_a_delivery_takes_three_redis_round_trips_in_process(
    in_process, redis_store, redis_round_trips
):
    # the saga's own two (tests/workflow/test_services.py) and the delivery PUT's one script: a
    # new delivery's month is not read first, nor the delivery read back once stored.
    DroneFactory.create_batch(3)
    services.handle(message())  # the server loads the scripts once
    redis_round_trips.clear()

    assert services.handle(message()).status == services.Status.COMPLETED

    assert len(redis_round_trips) == 3
