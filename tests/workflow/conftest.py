"""A running system for saga tests: the three services and the ingestion in their own gunicorns,
each downstream service behind a FaultyProxy, and a workflow worker that can be killed and
restarted. Retry timings are shortened through the same settings an operator would use."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from tests.e2e.conftest import delivery_request, system_env  # noqa: F401 - fixture
from tests.support import auth
from tests.support.faulty_proxy import FaultyProxy
from tests.support.live import (
    LiveSystem,
    Process,
    free_port,
    manage,
    redis_broker_url,
    wait_until,
)

SERVICES = ("package", "dronescheduler", "delivery")

FAST_RETRIES = {
    "HTTP_RETRY_ATTEMPTS": "1",  # every failure becomes a task-level retry we can observe
    "WORKFLOW_RETRY_BASE_DELAY": "0.2",
    "WORKFLOW_RETRY_MAX_DELAY": "0.5",
    "WORKFLOW_MAX_ATTEMPTS": "4",
    "WORKFLOW_TASK_TIME_LIMIT": "30",
    "WORKFLOW_LOCK_SECONDS": "3",
    "BROKER_VISIBILITY_TIMEOUT": "4",
    "BROKER_RESTORE_INTERVAL": "1",
    "CIRCUIT_BREAKER_FAILURES": "1000",
    "WORKFLOW_CONCURRENCY": "1",
}


def broker_for(env: dict[str, str]) -> str:
    """RabbitMQ when the run has one (CI), else the test Redis."""
    url = os.environ.get("RABBITMQ_URL") or os.environ.get("CELERY_BROKER_URL", "")
    return url if url.startswith("amqp") else redis_broker_url(env["REDIS_URL"])


@dataclass
class SagaSystem:
    live: LiveSystem
    env: dict[str, str]
    urls: dict[str, str]
    proxies: dict[str, FaultyProxy]
    worker: Process | None = None
    workers_started: int = field(default=0)

    def start_worker(self) -> Process:
        self.workers_started += 1
        port = free_port()
        self.worker = self.live.start(
            f"workflow-{self.workers_started}", ["serve", "--role", "workflow", "--port", str(port)]
        )
        self.live.wait_ready(f"http://127.0.0.1:{port}")  # consuming
        return self.worker

    def kill_worker(self) -> None:
        assert self.worker is not None
        os.killpg(self.worker.popen.pid, signal.SIGKILL)
        self.worker.popen.wait(10)
        self.live.retire(self.worker)

    def request_delivery(self, package_id: str, **changes: Any) -> str:
        body = {**delivery_request(package_id), **changes}
        response = requests.post(
            f"{self.urls['ingestion']}/api/deliveryrequests",
            json=body,
            timeout=10,
            headers=auth.headers(),
        )
        assert response.status_code == 202, response.text
        return response.json()["deliveryId"]

    def get(self, service: str, path: str) -> requests.Response:
        return requests.get(f"{self.urls[service]}{path}", timeout=10, headers=auth.headers())

    def delivery(self, delivery_id: str) -> dict | None:
        response = self.get("delivery", f"/api/deliveries/{delivery_id}")
        return response.json() if response.status_code == 200 else None

    def assigned_drones(self) -> list[str]:
        drones = self.get("dronescheduler", "/api/drones").json()
        return [d["id"] for d in drones if d["status"] == "assigned"]

    def dead_letters(self) -> list[dict]:
        return json.loads(manage(["deadletters", "list", "--json"], self.env))

    def wait_for_dead_letter(self, delivery_id: str, timeout: float = 30) -> dict:
        def find() -> dict | None:
            for letter in self.dead_letters():
                if letter["messageId"].startswith(delivery_id):
                    return letter
            return None

        return wait_until(find, timeout, f"a dead letter for {delivery_id}", interval=0.5)


@pytest.fixture
def saga(system_env, tmp_path) -> Iterator[SagaSystem]:  # noqa: F811 - fixture from e2e
    env = {**system_env, **FAST_RETRIES}
    env["CELERY_BROKER_URL"] = broker_for(env)
    live = LiveSystem(env, tmp_path)
    ports = {name: free_port() for name in (*SERVICES, "ingestion")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    proxies = {name: FaultyProxy(urls[name]) for name in SERVICES}
    env.update(
        SERVICE_URL_PACKAGE=proxies["package"].url,
        SERVICE_URL_DRONESCHEDULER=proxies["dronescheduler"].url,
        SERVICE_URL_DELIVERY=proxies["delivery"].url,
    )
    try:  # a process that never gets ready must not outlive the test either
        for name, port in ports.items():
            live.start(name, ["serve", "--role", name, "--port", str(port)])
        for url in urls.values():
            live.wait_ready(url)
        yield SagaSystem(live, env, urls, proxies)
    finally:
        live.stop()
        for proxy in proxies.values():
            proxy.close()
