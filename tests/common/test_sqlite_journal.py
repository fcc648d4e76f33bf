"""The embedded SQLite database runs in WAL mode with synchronous=NORMAL: a commit appends to the
log without fsyncs of its own, and readers do not wait for the writer."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.live import ROOT

PRAGMAS = (
    "import django; django.setup(); from django.db import connection; c = connection.cursor(); "
    "print(c.execute('PRAGMA journal_mode').fetchone()[0], "
    "c.execute('PRAGMA synchronous').fetchone()[0])"
)


def test_every_sqlite_connection_uses_wal_and_normal_sync(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", PRAGMAS],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "fabrikam.settings.production",
            "DEBUG": "true",
            "FABRIKAM_DATA_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "1"]  # 1 is NORMAL
