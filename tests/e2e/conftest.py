from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live import (
    LiveSystem,
    database_for_processes,
    manage,
    mongodb_for_processes,
    redis_url_with_db,
)
from tests.support.tools import missing

E2E_REDIS_DB = 2  # apart from the unit tests' database, which they flush


def rabbitmq_url() -> str:
    url = os.environ.get("RABBITMQ_URL") or os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith(("amqp://", "pyamqp://", "amqps://")):
        missing("RabbitMQ is not configured: set RABBITMQ_URL=amqp://user:pass@host:5672//")
    return url


@pytest.fixture
def system_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for the child processes: a migrated database with a seeded fleet, the test
    Redis (own db number), a queue of their own, and embedded-default settings otherwise."""
    with (
        database_for_processes(tmp_path) as database_url,
        mongodb_for_processes() as mongodb_env,
    ):
        env = {
            **os.environ,
            "DEBUG": "true",
            "FABRIKAM_DATA_DIR": str(tmp_path),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url_with_db(os.environ["REDIS_URL"], E2E_REDIS_DB),
            "DELIVERY_REQUESTS_QUEUE": f"deliveryrequests-e2e-{uuid.uuid4().hex[:8]}",
            "GUNICORN_WORKERS": "1",
            "GUNICORN_THREADS": "4",
            "PYTHONUNBUFFERED": "1",
            **mongodb_env,
        }
        env.pop("CELERY_BROKER_URL", None)  # each test picks its broker
        env.pop("FABRIKAM_ROLE", None)
        manage(["migrate", "--noinput", "-v0"], env)
        if mongodb_env:  # the packages collection and its index, as the Helm migrate Job does
            manage(["migrate", "--database", "packages", "--noinput", "-v0"], env)
        manage(["seed_fleet", "--drones", "10", "--area", "47.6062,-122.3321,5"], env)
        yield env


@pytest.fixture
def live(system_env: dict[str, str], tmp_path: Path) -> Iterator[LiveSystem]:
    system = LiveSystem(system_env, tmp_path)
    yield system
    system.stop()


def delivery_request(package_id: str = "pkg-e2e-1") -> dict:
    """The README's curl sample."""
    return {
        "ownerId": "contoso",
        "pickupLocation": "47.6097,-122.3331",
        "dropOffLocation": {"latitude": 47.6205, "longitude": -122.3493},
        "pickupTime": "2026-12-01T10:00:00Z",
        "deadline": "2026-12-01T12:00:00Z",
        "expedited": False,
        "confirmationRequired": "None",
        "packageInfo": {"packageId": package_id, "size": "Small", "weight": 1.5, "tag": "books"},
    }
