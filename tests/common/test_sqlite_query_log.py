"""With DEBUG on, the SQLite backend (fabrikam/sqlite) records each statement with its values filled
in (`connection.queries`, the `django.db.backends` log) by quoting them in Python, as SQLite's
QUOTE() does, instead of asking the database with a `SELECT QUOTE(?), …` per statement (which ran
inside the writers' turn).

On a SQLite database of the test's own, whatever database the suite runs on (CI's is
PostgreSQL)."""

from __future__ import annotations

import datetime
import decimal
import sqlite3
from collections.abc import Iterator

import pytest
from django.db.utils import ConnectionHandler
from hypothesis import given
from hypothesis import strategies as st

from fabrikam.sqlite.operations import quote


@pytest.fixture
def sqlite(tmp_path, django_db_blocker) -> Iterator:
    """A connection of its own (not the suite's test database)."""
    connection = ConnectionHandler(
        {"default": {"ENGINE": "fabrikam.sqlite", "NAME": str(tmp_path / "log.sqlite3")}}
    )["default"]
    connection.force_debug_cursor = True  # what DEBUG does
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE t (a, b, c, d, e, f, g)")
        yield connection
        connection.close()


def test_the_query_log_shows_each_statement_with_its_values(sqlite):
    with sqlite.cursor() as cursor:
        cursor.execute(
            "INSERT INTO t VALUES (%s, %s, %s, %s, %s, %s, %s)",
            ["it's", b"\x00\xff", None, 7, 1.5, True, datetime.date(2026, 12, 3)],
        )
    assert sqlite.queries[-1]["sql"] == (
        "INSERT INTO t VALUES ('it''s', X'00FF', NULL, 7, 1.5, 1, '2026-12-03')"
    )


def test_recording_a_statement_runs_no_statement_of_its_own(sqlite):
    ran: list[str] = []
    with sqlite.cursor() as cursor:
        sqlite.connection.set_trace_callback(ran.append)
        cursor.execute("INSERT INTO t (a, b) VALUES (%s, %s)", ["x", decimal.Decimal("2.50")])
        sqlite.connection.set_trace_callback(None)
    assert ran == ["INSERT INTO t (a, b) VALUES ('x', '2.50')"]
    assert sqlite.queries[-1]["sql"] == "INSERT INTO t (a, b) VALUES ('x', '2.50')"


def test_a_type_of_its_own_is_still_quoted_by_the_database(sqlite):
    class Point:
        def __conform__(self, protocol):
            return "1,2" if protocol is sqlite3.PrepareProtocol else None

    with sqlite.cursor() as cursor:
        cursor.execute("INSERT INTO t (a) VALUES (%s)", [Point()])
    assert sqlite.queries[-1]["sql"] == "INSERT INTO t (a) VALUES ('1,2')"


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),  # NaN and ±infinity included
    st.text(st.characters(codec="utf-8", exclude_characters="\x00")),  # SQL text: no NUL
    st.binary(),
)


@given(value=VALUES)
def test_a_logged_value_read_back_by_sqlite_is_the_value_bound(value):
    with sqlite3.connect(":memory:") as database:
        bound = database.execute("SELECT ?", (value,)).fetchone()[0]
        logged = database.execute(f"SELECT {quote(value)}").fetchone()[0]
    assert logged == bound
    assert type(logged) is type(bound)


@given(value=VALUES.filter(lambda v: not isinstance(v, float)))
def test_a_logged_value_reads_as_sqlites_own_quote(value):
    """Floats aside: written as Python's shortest round trip (1e+20, not QUOTE()'s 1.0e+20), which
    SQLite reads back as the same number (above)."""
    with sqlite3.connect(":memory:") as database:
        expected = database.execute("SELECT QUOTE(?)", (value,)).fetchone()[0]
    assert quote(value) == expected
