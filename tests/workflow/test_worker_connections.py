"""The workflow worker keeps its database connection from one task to the next, as a request does
(DATABASE_CONN_MAX_AGE), and replaces one the server dropped instead of failing a task with it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery import signals
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection, connections

from fabrikam.apps.dronescheduler.models import Drone
from fabrikam.apps.workflow.tasks import handle_delivery_request
from fabrikam.celery import app
from tests.support.tools import missing

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker() -> Iterator[Callable[[Callable[[], Any]], Any]]:
    """worker(body) runs body as a worker runs a task: between the signals sent around it, with
    Celery's Django fixup connected to them as a worker connects it."""
    fixup = DjangoWorkerFixup(app)
    fixup.install()
    task = handle_delivery_request  # not eager: its request is the worker's, not the caller's

    def run(body: Callable[[], Any]) -> Any:
        signals.task_prerun.send(sender=task, task_id="t", task=task, args=(), kwargs={})
        try:
            return body()
        finally:
            signals.task_postrun.send(
                sender=task, task_id="t", task=task, args=(), kwargs={}, retval=None, state="OK"
            )

    try:
        yield run
    finally:
        signals.task_prerun.disconnect(fixup.on_task_prerun)
        signals.task_postrun.disconnect(fixup.on_task_postrun)
        signals.worker_process_init.disconnect(fixup.on_worker_process_init)
        signals.beat_embedded_init.disconnect(fixup.close_database)


def count_drones() -> int:
    return Drone.objects.count()


def test_the_next_task_reuses_the_connection_of_the_last(worker):
    worker(count_drones)
    first = connection.connection

    worker(count_drones)

    assert first is not None
    assert connection.connection is first


@pytest.mark.postgres
def test_a_connection_the_server_dropped_between_tasks_is_replaced(worker):
    if connection.vendor != "postgresql":
        missing("needs PostgreSQL: set DATABASE_URL=postgres://...")
    worker(count_drones)
    dropped = connection.connection
    admin = connections.create_connection("default")  # another client of the same server
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [dropped.info.backend_pid])
    finally:
        admin.close()

    assert worker(count_drones) == 0
    assert connection.connection is not dropped
