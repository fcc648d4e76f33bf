"""SQLite's writers take turns on `<database>-writers` (fabrikam/sqlite/base.py): a write
transaction holds the turn from its BEGIN to its COMMIT or ROLLBACK, so a writer waiting for it
starts as soon as it is free instead of sleeping in SQLite's busy handler; one that cannot get it
within the busy timeout is left to SQLite's lock.

Each writer is a process of its own on a SQLite database of the test's own, driven line by line
(whatever database the suite runs on: CI's is PostgreSQL)."""

from __future__ import annotations

import fcntl
import os
import selectors
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live import ROOT

# Reads commands on stdin, answers each with one line once it is done.
WRITER = """
import os, sys
import django
django.setup()
from django.db import connection
connection.cursor().execute("CREATE TABLE IF NOT EXISTS t (n INTEGER)")
for line in sys.stdin:
    command, *arg = line.split()
    if command == "begin":
        connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    elif command == "write":
        connection.cursor().execute("INSERT INTO t VALUES (1)")
    elif command == "commit":
        connection.commit()
        connection.set_autocommit(True)
    elif command == "rollback":
        connection.rollback()
        connection.set_autocommit(True)
    elif command == "timeout":
        connection.settings_dict["OPTIONS"]["timeout"] = float(arg[0])
    elif command == "count":
        print(connection.cursor().execute("SELECT COUNT(*) FROM t").fetchone()[0], flush=True)
        continue
    elif command == "fork":  # a prefork child, with its parent's connection object
        child = os.fork()
        if child == 0:
            os._exit(3 if connection._take_turn() else 0)  # what its next BEGIN does first
        print(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]), flush=True)
        continue
    print("ok", flush=True)
"""


class Writer:
    def __init__(self, database: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", WRITER],
            cwd=ROOT,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "fabrikam.settings.production",
                "DEBUG": "true",
                "FABRIKAM_DATA_DIR": str(database.parent),
                "DATABASE_URL": f"sqlite:///{database}",
            },
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def send(self, command: str) -> None:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def answer(self, timeout: float = 30) -> str:
        """The next answer line, or '' if none comes within `timeout` seconds."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                return ""
        return self.process.stdout.readline().strip()

    def do(self, command: str) -> str:
        self.send(command)
        return self.answer()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(30)


@pytest.fixture
def database(tmp_path) -> Path:
    return tmp_path / "db.sqlite3"


@pytest.fixture
def writers(database) -> Iterator[list[Writer]]:
    # One at a time: two processes opening a new file at once may both try to switch it to WAL,
    # and SQLite refuses one of them at once ("database is locked"), without its busy timeout.
    first = Writer(database)
    assert first.do("count") == "0"  # the file made, in WAL, with its table
    started = [first, Writer(database)]
    yield started
    for writer in started:
        writer.close()


def turn_is_free(database: Path) -> bool:
    """Whether another writer could take the turn now."""
    fd = os.open(f"{database}-writers", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # releases it if taken
    return True


@pytest.mark.parametrize(("end", "rows_kept"), [("commit", "1"), ("rollback", "0")])
def test_a_write_transaction_holds_the_turn_until_it_ends(writers, database, end, rows_kept):
    writer = writers[0]
    assert writer.do("begin") == writer.do("write") == "ok"
    assert not turn_is_free(database)
    assert writer.do(end) == "ok"
    assert turn_is_free(database)
    assert writer.do("count") == rows_kept


def test_a_writer_starts_as_soon_as_the_other_commits(writers):
    first, second = writers
    assert first.do("begin") == first.do("write") == "ok"
    second.send("begin")
    assert second.answer(timeout=0.5) == ""  # waiting for its turn
    assert first.do("commit") == "ok"
    assert second.answer() == "ok"
    assert second.do("write") == second.do("commit") == "ok"
    assert second.do("count") == "2"


def test_a_turn_never_released_delays_a_writer_by_the_busy_timeout_only(writers, database):
    writer = writers[0]
    assert writer.do("count") == "0"  # connected, table made
    fd = os.open(f"{database}-writers", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held by something that never lets go
        assert writer.do("timeout 0.2") == "ok"
        # SQLite's own lock is free: the transaction begins once the wait is over.
        assert writer.do("begin") == writer.do("write") == writer.do("commit") == "ok"
    finally:
        os.close(fd)
    assert writer.do("count") == "1"


def test_a_forked_child_waits_for_its_parents_turn(writers):
    # A prefork worker's child inherits its parent's connection object; the lock file's
    # descriptor it would inherit shares the parent's turn, so it opens its own.
    writer = writers[0]
    assert writer.do("begin") == writer.do("write") == writer.do("timeout 0.3") == "ok"
    assert writer.do("fork") == "0"  # the child could not take the turn the parent holds
    assert writer.do("commit") == "ok"
