"""`make run`'s shape: `manage.py dev` runs every role in one process tree."""

from __future__ import annotations

import signal

import psutil
import pytest
import requests

from tests.e2e.conftest import delivery_request
from tests.support import auth
from tests.support.live import free_port, manage, wait_until

pytestmark = [pytest.mark.e2e]


def test_a_delivery_request_travels_to_a_stored_delivery_with_a_real_drone(live):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    live.start("dev", ["dev", "--port", str(port), "--no-beat"])
    live.wait_ready(base)
    # As the README says: a token for the business "contoso", registered on the way.
    contoso = bearer(manage(["issue_token", "--owner", "contoso"], live.env))
    fabrikam = bearer(manage(["issue_token", "--owner", "fabrikam"], live.env))

    accepted = requests.post(
        f"{base}/api/deliveryrequests", json=delivery_request(), timeout=10, headers=contoso
    )
    assert accepted.status_code == 202, accepted.text
    delivery_id = accepted.json()["deliveryId"]
    assert accepted.headers["Location"] == f"/api/deliveries/{delivery_id}"

    def scheduled() -> dict | None:
        response = requests.get(f"{base}/api/deliveries/{delivery_id}", timeout=5, headers=contoso)
        return response.json() if response.status_code == 200 else None

    delivery = wait_until(scheduled, 20, "the workflow to schedule the delivery")
    for other in (fabrikam, {}):
        hidden = requests.get(f"{base}/api/deliveries/{delivery_id}", timeout=5, headers=other)
        assert hidden.status_code == (404 if other else 401), hidden.text
    assert delivery["packageId"] == "pkg-e2e-1"
    assert delivery["owner"] == {"userId": "contoso", "accountId": "contoso"}
    drone = requests.get(
        f"{base}/api/drones/{delivery['droneId']}", timeout=5, headers=auth.headers()
    ).json()
    assert drone["status"] == "assigned"
    package = requests.get(f"{base}/api/packages/pkg-e2e-1", timeout=5, headers=contoso).json()
    assert package == {
        "id": "pkg-e2e-1",
        "size": "Small",
        "weight": 1.5,
        "tag": "books",
        "ownerId": "contoso",
        "deliveryState": "InDelivery",
    }


def test_a_package_no_drone_can_carry_reads_as_cancelled_with_the_reason(live):
    """`make run`'s fleet carries at most 12 kg: a 14 kg package is accepted (202), then ends at
    once, and the client reads why instead of a 404."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    live.start("dev", ["dev", "--port", str(port), "--no-beat"])
    live.wait_ready(base)
    contoso = bearer(manage(["issue_token", "--owner", "contoso"], live.env))
    heavy = {**delivery_request("pkg-14kg")}
    heavy["packageInfo"] = {**heavy["packageInfo"], "size": "Large", "weight": 14.0}

    accepted = requests.post(
        f"{base}/api/deliveryrequests", json=heavy, timeout=10, headers=contoso
    )
    assert accepted.status_code == 202, accepted.text
    delivery_id = accepted.json()["deliveryId"]

    def ended() -> dict | None:
        response = requests.get(
            f"{base}/api/deliveries/{delivery_id}/status", timeout=5, headers=contoso
        )
        status = response.json() if response.status_code == 200 else None
        return status if status and status["stage"] == "Cancelled" else None

    status = wait_until(ended, 30, "the request to end as cancelled")
    assert status["reason"].startswith("unserviceable: No drone of the fleet can carry 14 kg")
    package = requests.get(f"{base}/api/packages/pkg-14kg", timeout=5, headers=contoso).json()
    assert package["deliveryState"] == "NotInDelivery"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token.strip()}"}


def command_of(process: psutil.Process) -> str:
    """Its command line; empty for a child that has just exited (a zombie until reaped)."""
    try:
        return " ".join(process.cmdline())
    except (psutil.ZombieProcess, psutil.NoSuchProcess):
        return ""


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_ctrl_c_stops_every_process_it_started(live):
    port = free_port()
    # No REDIS_URL: dev starts the embedded Redis itself, as under `make run`.
    dev = live.start("dev", ["dev", "--port", str(port)], {"REDIS_URL": ""})
    live.wait_ready(f"http://127.0.0.1:{port}")
    started = live.descendants()
    commands = [command_of(p) for p in started]
    for expected in (
        "gunicorn",
        # the workflow's WORKFLOW_CONCURRENCY (2) one-slot solo workers, side by side
        "celery -A fabrikam worker --queues",
        "--concurrency 1 --prefetch-multiplier 1",
        "--hostname workflow-1@",
        "--hostname workflow-2@",
        "celery -A fabrikam worker --beat",
        "redis-server",
    ):
        assert any(expected in command for command in commands), (expected, commands)

    dev.popen.send_signal(signal.SIGINT)
    assert dev.popen.wait(30) == 0, live.logs()
    still_running = [command_of(p) for p in started if alive(p)]
    assert still_running == []
