"""A delivery flies for real: the scheduler advances the drone and the delivery service's status
follows it, stage by stage, with a moving position and closing ETAs."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby

import pytest
import requests

from tests.e2e.conftest import delivery_request
from tests.support import auth
from tests.support.live import free_port, wait_until

pytestmark = [pytest.mark.e2e]


def test_the_status_follows_the_drone_to_completion(live):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    live.start(
        "dev",
        ["dev", "--port", str(port)],
        {"FLIGHT_TIME_SCALE": "60", "FLIGHT_TICK_SECONDS": "0.3"},
    )
    live.wait_ready(base)
    delivery_id = requests.post(
        f"{base}/api/deliveryrequests",
        json=delivery_request("pkg-fly"),
        timeout=10,
        headers=auth.headers(),
    ).json()["deliveryId"]

    seen: list[dict] = []

    def completed() -> bool:
        response = requests.get(
            f"{base}/api/deliveries/{delivery_id}/status", timeout=5, headers=auth.headers()
        )
        if response.status_code == 200:
            status = response.json()
            status["observedAt"] = datetime.now().astimezone()
            if not seen or status != {**seen[-1], "observedAt": status["observedAt"]}:
                seen.append(status)
            return status["stage"] == "Completed"
        return False

    wait_until(completed, 90, f"delivery {delivery_id} to complete", interval=0.1)

    stages = [stage for stage, _ in groupby(s["stage"] for s in seen)]
    assert stages[-3:] == ["HeadedToPickup", "HeadedToDropoff", "Completed"], stages
    in_flight = [s for s in seen if s["stage"] in ("HeadedToPickup", "HeadedToDropoff")]
    positions = {
        (s["lastKnownLocation"]["latitude"], s["lastKnownLocation"]["longitude"]) for s in in_flight
    }
    assert len(positions) > 2, "the drone was seen moving"
    remaining = [
        (datetime.fromisoformat(s["deliveryETA"]) - s["observedAt"]).total_seconds()
        for s in in_flight
    ]
    assert remaining[-1] < remaining[0], remaining
    drone = requests.get(
        f"{base}/api/dronedeliveries/{delivery_id}", timeout=5, headers=auth.headers()
    ).json()
    assert drone["stage"] == "Completed"
