"""SQLite's WAL is copied back into the database by the writers themselves, out of their turn
(fabrikam/sqlite/base.py): a PASSIVE checkpoint every CHECKPOINT_EVERY_COMMITS commits once the
writer has let the next one in, instead of SQLite's checkpoint inside the COMMIT that takes the
WAL past 1,000 pages (which held every other writer back while it copied). The WAL stays small.

On a SQLite database of the test's own, whatever database the suite runs on (CI's is
PostgreSQL)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db.utils import ConnectionHandler

from fabrikam.sqlite.base import CHECKPOINT_EVERY_COMMITS

WAL_HEADER, FRAME_HEADER = 32, 24


@pytest.fixture
def database(tmp_path) -> Path:
    return tmp_path / "wal.sqlite3"


@pytest.fixture
def writer(database, django_db_blocker) -> Iterator:
    """A connection as settings/stores.py makes them: WAL, transactions begun IMMEDIATE."""
    connection = ConnectionHandler(
        {
            "default": {
                "ENGINE": "fabrikam.sqlite",
                "NAME": str(database),
                "OPTIONS": {
                    "transaction_mode": "IMMEDIATE",
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                },
            }
        }
    )["default"]
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE t (n INTEGER, padding TEXT)")
        yield connection
        connection.close()


def commit_a_row(connection) -> None:
    connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (1, %s)", ["x" * 3000])  # about a page a commit
    connection.commit()
    connection.set_autocommit(True)


def wal_frames(database: Path, page_size: int) -> int:
    """How many frames the WAL file holds room for (it is reused from the start, not shrunk)."""
    size = os.path.getsize(f"{database}-wal")
    return max(0, size - WAL_HEADER) // (FRAME_HEADER + page_size)


def test_the_wal_stays_within_a_few_checkpoints_worth_of_commits(writer, database):
    with writer.cursor() as cursor:
        page_size = cursor.execute("PRAGMA page_size").fetchone()[0]
    largest = 0
    for _ in range(1_500):  # SQLite alone lets the WAL reach 1,000 pages before it checkpoints
        commit_a_row(writer)
        largest = max(largest, wal_frames(database, page_size))
    assert largest <= 4 * CHECKPOINT_EVERY_COMMITS
    with writer.cursor() as cursor:
        assert cursor.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 1_500


def test_a_writer_checkpoints_after_its_turn_is_over(writer, database):
    turn = os.open(f"{database}-writers", os.O_RDWR | os.O_CREAT)
    checkpoints: list[bool] = []  # for each: whether another writer could have its turn meanwhile

    def traced(statement: str) -> None:
        if "wal_checkpoint" in statement:
            try:
                fcntl.flock(turn, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                checkpoints.append(False)
            else:
                fcntl.flock(turn, fcntl.LOCK_UN)
                checkpoints.append(True)

    try:
        writer.ensure_connection()
        writer.connection.set_trace_callback(traced)
        for _ in range(2 * CHECKPOINT_EVERY_COMMITS):
            commit_a_row(writer)
    finally:
        writer.connection.set_trace_callback(None)
        os.close(turn)
    assert checkpoints == [True, True]
