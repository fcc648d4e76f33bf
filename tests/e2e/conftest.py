from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live import LiveSystem, system_environment


@pytest.fixture
def system_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for the child processes: a migrated database with a seeded fleet, the test
    Redis (own db number), a queue of their own, and embedded-default settings otherwise."""
    with system_environment(tmp_path) as env:
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
