"""SQLite's writers take turns on `<database>-writers` (fabrikam/sqlite/base.py): a write
transaction holds the turn from its BEGIN to its COMMIT or ROLLBACK, so a writer waiting for it
starts as soon as it is free instead of sleeping in SQLite's busy handler; one that cannot get it
within the busy timeout is left to SQLite's lock."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator

import pytest
from django.db import connection, transaction

from fabrikam.apps.dronescheduler.models import Drone
from tests.dronescheduler.factories import DroneFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def turn_file() -> str:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's writers only (PostgreSQL locks rows)")
    connection.ensure_connection()
    return f"{connection.settings_dict['NAME']}-writers"


def turn_is_free(path: str) -> bool:
    """Whether another writer could take the turn now."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # releases it if taken
    return True


@pytest.fixture
def held_turn(turn_file) -> Iterator[int]:
    """The turn, held by another writer (a descriptor of this test's own)."""
    fd = os.open(turn_file, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    yield fd
    os.close(fd)


def test_a_write_transaction_holds_the_turn_until_it_commits(turn_file):
    with transaction.atomic():
        DroneFactory()
        assert not turn_is_free(turn_file)
    assert turn_is_free(turn_file)
    assert Drone.objects.count() == 1


def test_a_rolled_back_transaction_gives_the_turn_back(turn_file):
    held = []

    def refused() -> None:
        with transaction.atomic():
            DroneFactory()
            held.append(not turn_is_free(turn_file))
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        refused()
    assert held == [True]
    assert turn_is_free(turn_file)
    assert Drone.objects.count() == 0


def test_a_writer_starts_once_the_turn_is_released(held_turn):
    written = threading.Event()

    def write() -> None:
        try:
            with transaction.atomic():
                DroneFactory()
            written.set()
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert not written.wait(0.3)  # waiting for its turn
    finally:
        fcntl.flock(held_turn, fcntl.LOCK_UN)
    assert written.wait(10)
    writer.join(10)
    assert Drone.objects.count() == 1


def test_a_turn_never_released_delays_a_writer_by_the_busy_timeout_only(held_turn, monkeypatch):
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.2)
    with transaction.atomic():  # SQLite's own lock is free: it begins once the wait is over
        DroneFactory()
    assert Drone.objects.count() == 1


def test_a_forked_process_takes_turns_with_its_parent(turn_file):
    """A worker's prefork child inherits its parent's connection object; the lock file's
    descriptor it inherits would share the parent's turn, so it opens its own."""
    with transaction.atomic():
        DroneFactory()
        child = os.fork()
        if child == 0:
            code = 1
            try:
                connection.settings_dict["OPTIONS"]["timeout"] = 0.3
                connection._turn_held = False
                connection._take_turn()  # what its next BEGIN does first; SQLite is not touched
                code = 2 if connection._turn_held else 0
            finally:
                os._exit(code)
        _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0  # it could not take the parent's turn
