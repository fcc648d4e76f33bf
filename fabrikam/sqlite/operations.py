"""Django's SQLite operations, with DEBUG's query log quoting parameters in Python.

With DEBUG on (`make run`), Django records every statement with its parameters filled in
(`connection.queries`, the `django.db.backends` log). SQLite's backend fills them in by running
`SELECT QUOTE(?), …` on the database once per statement that has parameters: a second statement
for each, inside the writers' turn when in a write transaction. Here the values SQLite's driver
binds as they are (None, integers, floats, text, bytes: what Django's fields hand it) are quoted
in Python, as QUOTE() does; anything else still goes to the database.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence

# Through `base`: Django's sqlite3 operations module imports base, which imports it back.
from django.db.backends.sqlite3 import base


def quote(value: object) -> str | None:
    """`value` as SQLite's QUOTE() writes it, or None for a type left to the database."""
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, int):  # bool included: the driver binds it as 0 or 1
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "NULL"  # the driver binds NaN as NULL
        if math.isinf(value):
            return "9.0e+999" if value > 0 else "-9.0e+999"
        return repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "X'" + bytes(value).hex().upper() + "'"
    return None


class DatabaseOperations(base.DatabaseOperations):
    def _quote_params_for_last_executed_query(self, params: Sequence) -> tuple:
        quoted = []
        for value in params:
            text = quote(value)
            if text is None:  # what the driver binds for it (a date, a Decimal), if it can
                text = quote(sqlite3.adapt(value, sqlite3.PrepareProtocol, value))
                if text is None:  # a type of its own: as Django does it
                    return super()._quote_params_for_last_executed_query(params)
            quoted.append(text)
        return tuple(quoted)
