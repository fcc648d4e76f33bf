"""The `scheduler` role as it is deployed: a real Celery worker with beat embedded advances a
flight that the `dronescheduler` role (real gunicorn) assigned, and its tracking updates reach a
real HTTP endpoint."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from itertools import groupby
from pathlib import Path

import pytest
import requests

from tests.dronescheduler.conftest import TrackingRecorder
from tests.dronescheduler.factories import SEATTLE, assignment_body, north_of
from tests.support import auth
from tests.support.live import LiveSystem, database_for_processes, free_port, manage, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


@pytest.fixture
def live(tmp_path: Path, tracking: TrackingRecorder) -> Iterator[LiveSystem]:
    with database_for_processes(tmp_path) as database_url:
        env = {
            **os.environ,
            "DEBUG": "true",
            "FABRIKAM_DATA_DIR": str(tmp_path),
            "DATABASE_URL": database_url,
            "FLIGHT_QUEUE": f"flights-test-{uuid.uuid4().hex[:8]}",
            "FLIGHT_TIME_SCALE": "600",  # a 2 km leg at 60 km/h takes 0.2 s
            "FLIGHT_TICK_SECONDS": "0.3",
            "SERVICE_URL_DELIVERY": tracking.url,
            "GUNICORN_WORKERS": "1",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("FABRIKAM_ROLE", None)
        manage(["migrate", "--noinput", "-v0"], env)
        manage(
            ["seed_fleet", "--drones", "3", "--area", f"{SEATTLE.latitude},{SEATTLE.longitude},1"],
            env,
        )
        system = LiveSystem(env, tmp_path)
        yield system
        system.stop()


def test_the_scheduler_process_flies_an_assigned_drone_to_completion_and_home(live, tracking):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    live.start("dronescheduler", ["serve", "--role", "dronescheduler", "--port", str(port)])
    live.start("scheduler", ["serve", "--role", "scheduler"])
    live.wait_ready(base)

    body = assignment_body(north_of(SEATTLE, 2), north_of(SEATTLE, 4))
    assigned = requests.put(
        f"{base}/api/dronedeliveries/d-live", json=body, timeout=10, headers=auth.headers()
    )
    assert assigned.status_code == 200, assigned.text
    drone_id = assigned.json()["droneId"]

    def completed() -> bool:
        return requests.get(
            f"{base}/api/dronedeliveries/d-live", timeout=5, headers=auth.headers()
        ).json()["stage"] == ("Completed")

    try:
        wait_until(completed, 60, "the scheduler to fly the delivery to its dropoff")
        wait_until(
            lambda: (
                requests.get(
                    f"{base}/api/drones/{drone_id}", timeout=5, headers=auth.headers()
                ).json()["status"]
                in ("charging", "available")
            ),
            60,
            "the drone to land at home",
        )
        wait_until(
            lambda: any(u["stage"] == "Completed" for u in tracking.updates("d-live")),
            30,
            "the Completed update to reach the delivery service",
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{live.logs()}") from None
    stages = [stage for stage, _ in groupby(u["stage"] for u in tracking.updates("d-live"))]
    assert stages == ["HeadedToPickup", "HeadedToDropoff", "Completed"]
