"""Django's SQLite backend, with its write transactions taking turns on a lock file.

SQLite lets one writer in at a time. A transaction that finds the write lock taken waits in
SQLite's busy handler, which sleeps 1, 2, 5, 10, 15… ms between tries whatever the holder does:
with the workflow's two prefork children each writing a few milliseconds per delivery, a child
slept longer than the other held the lock, and the two kept barely more than one core busy.

Here a transaction that begins IMMEDIATE (settings/stores.py) first takes an exclusive `flock` on
`<database>-writers` and releases it when it commits, rolls back or closes; a connection waiting for
it retries within a fraction of a millisecond of its release. SQLite's own lock still decides who
writes: the file only orders the writers that use it, and a writer that does not (a statement
outside a transaction, the `sqlite3` shell) is waited for by SQLite's busy handler as before. A
connection that cannot get the file within the busy timeout begins anyway, leaving the decision to
SQLite (so a test holding a transaction open in one thread fails another's write after the
timeout, as before, rather than hanging).

A writer also copies the WAL back into the database (a PASSIVE checkpoint) every
CHECKPOINT_EVERY_COMMITS of its commits once it has released the turn, so SQLite's own checkpoint,
which runs inside the COMMIT that takes the WAL past 1,000 pages, seldom holds the next writer up.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time

from django.db.backends.sqlite3 import base

from fabrikam.sqlite.operations import DatabaseOperations

# Between tries for a turn: short enough that a released turn is taken at once, long enough that
# a waiter costs next to no CPU.
FIRST_WAIT_SECONDS = 0.0001
LONGEST_WAIT_SECONDS = 0.0005
WRITING = {"IMMEDIATE", "EXCLUSIVE"}  # the modes whose BEGIN takes the write lock
# A writer copies the WAL back into the database every this many of its commits, once its turn
# is over; SQLite's own checkpoint (inside the COMMIT that takes the WAL past 1,000 pages, so
# inside the turn) is left for a WAL that grows faster than that.
CHECKPOINT_EVERY_COMMITS = 50


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations  # DEBUG's query log without a statement per statement
    _turn_fd: int | None = None
    _turn_pid = 0
    _turn_held = False
    _commits_since_checkpoint = 0

    def _turn_file(self) -> int | None:
        """This connection's descriptor of the lock file, or None for an in-memory database. Opened
        by each process itself: a descriptor inherited across fork shares its lock with the
        parent's."""
        if self.transaction_mode not in WRITING or self.is_in_memory_db():
            return None
        if self._turn_fd is None or self._turn_pid != os.getpid():
            self._turn_fd = os.open(f"{self.settings_dict['NAME']}-writers", os.O_RDWR | os.O_CREAT)
            self._turn_pid = os.getpid()
        return self._turn_fd

    def _take_turn(self) -> bool:
        """Wait for the writers' turn, up to the busy timeout; whether this connection has it."""
        fd = self._turn_file()
        if fd is None:
            return False
        deadline = time.monotonic() + float(self.settings_dict["OPTIONS"].get("timeout", 5))
        wait = FIRST_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False  # SQLite's lock decides
                time.sleep(wait)
                wait = min(wait * 2, LONGEST_WAIT_SECONDS)
            else:
                self._turn_held = True
                return True

    def _end_turn(self) -> None:
        if self._turn_held and self._turn_pid == os.getpid():
            self._turn_held = False
            fcntl.flock(self._turn_fd, fcntl.LOCK_UN)

    def _start_transaction_under_autocommit(self) -> None:
        self._take_turn()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._end_turn()
            raise

    def _commit(self) -> None:
        held = self._turn_held
        try:
            super()._commit()
        finally:
            self._end_turn()
        if held:
            self._checkpoint_when_due()

    def _checkpoint_when_due(self) -> None:
        """A PASSIVE checkpoint (it waits for no one) every CHECKPOINT_EVERY_COMMITS commits, out
        of the writers' turn: the next writer need not wait while this one copies pages."""
        self._commits_since_checkpoint += 1
        if self._commits_since_checkpoint >= CHECKPOINT_EVERY_COMMITS:
            self._commits_since_checkpoint = 0
            # A failed checkpoint does not fail the commit: the next one (or SQLite's) copies.
            with contextlib.suppress(sqlite3.OperationalError):
                self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _rollback(self) -> None:
        try:
            super()._rollback()
        finally:
            self._end_turn()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self._end_turn()
            if self._turn_fd is not None and self._turn_pid == os.getpid():
                os.close(self._turn_fd)
            self._turn_fd = None
