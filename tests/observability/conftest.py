"""A running system whose processes export telemetry the way a pod would: the four HTTP roles and
the workflow worker (with its probe listener) as real processes, JSON logs, and OTLP pointed at a
receiver inside the test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.e2e.conftest import delivery_request, live, system_env  # noqa: F401 - fixtures
from tests.observability.otlp_receiver import OtlpReceiver
from tests.support import auth
from tests.support.live import LiveSystem, free_port
from tests.workflow.conftest import broker_for

HTTP_ROLES = ("ingestion", "package", "dronescheduler", "delivery")


@dataclass
class TracedSystem:
    live: LiveSystem
    urls: dict[str, str]  # role → base URL; "workflow" is the worker's probe listener
    receiver: OtlpReceiver

    def request_delivery(self, package_id: str, headers: dict[str, str] | None = None) -> str:
        response = requests.post(
            f"{self.urls['ingestion']}/api/deliveryrequests",
            json=delivery_request(package_id),
            headers={**auth.headers(), **(headers or {})},
            timeout=10,
        )
        assert response.status_code == 202, response.text
        return response.json()["deliveryId"]

    def delivery(self, delivery_id: str) -> dict | None:
        response = requests.get(
            f"{self.urls['delivery']}/api/deliveries/{delivery_id}",
            timeout=5,
            headers=auth.headers(),
        )
        return response.json() if response.status_code == 200 else None

    def log_lines(self, name: str) -> list[str]:
        """The complete lines `name` has written so far (not one it is in the middle of)."""
        process = next(p for p in self.live.processes if p.name == name)
        complete = process.output().rpartition("\n")[0]
        return [line for line in complete.split("\n") if line.strip()]

    def json_logs(self, name: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_lines(name)]

    def metrics(self, role: str) -> str:
        response = requests.get(f"{self.urls[role]}/metrics", timeout=10)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("text/plain")
        return response.text


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    server = OtlpReceiver()
    yield server
    server.close()


@pytest.fixture
def traced_system(system_env, receiver, tmp_path) -> Iterator[TracedSystem]:  # noqa: F811
    env = {
        **system_env,
        "LOG_FORMAT": "json",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # the SDK's batch delay (ms): spans arrive promptly
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        "GUNICORN_WORKERS": "2",
        "WORKFLOW_CONCURRENCY": "2",
    }
    env["CELERY_BROKER_URL"] = broker_for(env)
    system = LiveSystem(env, tmp_path)
    ports = {role: free_port() for role in (*HTTP_ROLES, "workflow")}
    urls = {role: f"http://127.0.0.1:{port}" for role, port in ports.items()}
    services = {
        "SERVICE_URL_PACKAGE": urls["package"],
        "SERVICE_URL_DRONESCHEDULER": urls["dronescheduler"],
        "SERVICE_URL_DELIVERY": urls["delivery"],
    }
    try:  # a process that never gets ready must not outlive the test either
        for role, port in ports.items():
            system.start(role, ["serve", "--role", role, "--port", str(port)], services)
        for url in urls.values():
            system.wait_ready(url)
        yield TracedSystem(system, urls, receiver)
    finally:
        system.stop()
