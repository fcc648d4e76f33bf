"""Probes Kubernetes can act on: liveness is local, readiness checks only the role's own stores and
answers within HEALTH_CHECK_TIMEOUT even when one hangs, and the worker is ready only while it
consumes from its queue."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from fabrikam.runtime import embedded_redis
from tests.support.live import free_port, redis_broker_url, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

TIMEOUT = 0.5  # HEALTH_CHECK_TIMEOUT for these processes


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A TCP address that accepts connections and never answers (a store that hangs)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def get(url: str) -> requests.Response:
    # The kubelet's timeoutSeconds is 3: a probe must answer well within it.
    return requests.get(url, timeout=TIMEOUT + 2)


def test_readiness_names_a_hanging_store_and_only_the_roles_that_own_it_care(live, black_hole):
    ports = {"delivery": free_port(), "scheduler": free_port()}
    hanging = {"REDIS_URL": black_hole, "HEALTH_CHECK_TIMEOUT": str(TIMEOUT)}
    # The scheduler's broker stays reachable: only the Redis store hangs.
    broker = {"CELERY_BROKER_URL": redis_broker_url(live.env["REDIS_URL"])}
    for role, port in ports.items():
        live.start(role, ["serve", "--role", role, "--port", str(port)], {**hanging, **broker})
    delivery = f"http://127.0.0.1:{ports['delivery']}"
    live.wait_ready(f"http://127.0.0.1:{ports['scheduler']}")  # flights need no Redis store
    wait_until(lambda: get(f"{delivery}/healthz/live").status_code == 200, 30, "delivery live")

    for _ in range(2):  # the second probe finds the first check still hanging: same answer
        answer = get(f"{delivery}/healthz/ready")
        assert answer.status_code == 503
        assert answer.json()["failing"] == {"redis": f"no answer within {TIMEOUT:g}s"}
    assert get(f"{delivery}/healthz/live").json() == {"status": "live", "role": "delivery"}


def test_a_worker_is_ready_while_it_consumes_and_not_while_its_broker_is_gone(live, tmp_path):
    broker_dir = tmp_path / "broker"
    broker = embedded_redis.start(broker_dir)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    live.start(
        "workflow",
        ["serve", "--role", "workflow", "--port", str(port)],
        {
            "CELERY_BROKER_URL": redis_broker_url(embedded_redis.url_for(broker_dir)),
            "HEALTH_CHECK_TIMEOUT": str(TIMEOUT),
            # The services it calls are down: not its readiness's business.
            "SERVICE_URL_PACKAGE": f"http://127.0.0.1:{free_port()}",
            "SERVICE_URL_DRONESCHEDULER": f"http://127.0.0.1:{free_port()}",
            "SERVICE_URL_DELIVERY": f"http://127.0.0.1:{free_port()}",
        },
    )
    try:
        live.wait_ready(base)
        stop(broker, broker_dir)

        def unready() -> dict | None:
            answer = get(f"{base}/healthz/ready")
            return answer.json() if answer.status_code == 503 else None

        failing = wait_until(unready, 30, "the worker to report its lost broker")["failing"]
        assert failing.get("consumer") == "not consuming from the queue"
        assert "broker" in failing
        assert get(f"{base}/healthz/live").status_code == 200, "restarting it would not help"

        broker = embedded_redis.start(broker_dir)
        live.wait_ready(base, timeout=60)  # it reconnects and consumes again
    finally:
        stop(broker, broker_dir)


def stop(server: object, directory: Path) -> None:
    if server is not None:
        server.terminate()  # type: ignore[attr-defined]
        server.wait(10)  # type: ignore[attr-defined]
    with contextlib.suppress(FileNotFoundError):
        embedded_redis.socket_path(directory).unlink()
