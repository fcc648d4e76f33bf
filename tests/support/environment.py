"""Loaded with `-p tests.support.environment`, before Django reads its settings.

With no service URLs in the environment the suite runs on embedded defaults: a throwaway data
directory and an embedded Redis for this session. With `REDIS_URL`, `DATABASE_URL`,
`CELERY_BROKER_URL` set (CI), the same tests run against those servers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_state: dict[str, object] = {}

# Before anything imports the fabrikam package: its Celery module defaults the settings to
# production, and an environment variable wins over pyproject's DJANGO_SETTINGS_MODULE.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrikam.settings.test")
os.environ.setdefault("DEBUG", "true")
if not os.environ.get("AUTH_SIGNING_KEY"):
    # One key for the session: tests sign tokens with it, and the processes they start check them.
    from fabrikam.apps.accounts.signing_key import generate_pem

    os.environ["AUTH_SIGNING_KEY"] = generate_pem()
if "FABRIKAM_DATA_DIR" not in os.environ:
    _state["data_dir"] = Path(tempfile.mkdtemp(prefix="fabrikam-test-"))
    os.environ["FABRIKAM_DATA_DIR"] = str(_state["data_dir"])
if not os.environ.get("REDIS_URL"):
    from fabrikam.runtime import embedded_redis

    data_dir = Path(os.environ["FABRIKAM_DATA_DIR"])
    _state["redis"] = embedded_redis.start(data_dir)
    os.environ["REDIS_URL"] = embedded_redis.url_for(data_dir)


def pytest_unconfigure(config: pytest.Config) -> None:
    server = _state.get("redis")
    if server is not None:
        server.terminate()  # type: ignore[attr-defined]
        server.wait(10)  # type: ignore[attr-defined]
    data_dir = _state.get("data_dir")
    if data_dir is not None:
        shutil.rmtree(data_dir, ignore_errors=True)  # type: ignore[arg-type]
