"""The AKS shape: each role in its own process, talking over HTTP, on Redis and on RabbitMQ."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import delivery_request
from tests.ingestion.broker import rabbitmq_url
from tests.support import auth
from tests.support.live import free_port, wait_until

pytestmark = [pytest.mark.e2e]

HTTP_ROLES = ("ingestion", "delivery", "package", "dronescheduler")


def start_microservices(live, broker_url: str | None) -> dict[str, str]:
    ports = {role: free_port() for role in HTTP_ROLES}
    urls = {role: f"http://127.0.0.1:{port}" for role, port in ports.items()}
    shared = {
        "SERVICE_URL_PACKAGE": urls["package"],
        "SERVICE_URL_DRONESCHEDULER": urls["dronescheduler"],
        "SERVICE_URL_DELIVERY": urls["delivery"],
    }
    if broker_url:
        shared["CELERY_BROKER_URL"] = broker_url
    for role in HTTP_ROLES:
        live.start(role, ["serve", "--role", role, "--port", str(ports[role])], shared)
    probe_port = free_port()
    live.start("workflow", ["serve", "--role", "workflow", "--port", str(probe_port)], shared)
    urls["workflow"] = f"http://127.0.0.1:{probe_port}"
    for url in urls.values():
        live.wait_ready(url)  # the worker's probe is ready once it consumes
    return urls


@pytest.mark.parametrize(
    "broker",
    [
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("rabbitmq", marks=pytest.mark.rabbitmq),
    ],
)
def test_each_role_in_its_own_process_completes_a_delivery(live, broker):
    urls = start_microservices(live, rabbitmq_url() if broker == "rabbitmq" else None)

    accepted = requests.post(
        f"{urls['ingestion']}/api/deliveryrequests",
        json=delivery_request("pkg-ms-1"),
        timeout=10,
        headers=auth.headers(),
    )
    assert accepted.status_code == 202, accepted.text
    delivery_id = accepted.json()["deliveryId"]

    def scheduled() -> dict | None:
        response = requests.get(
            f"{urls['delivery']}/api/deliveries/{delivery_id}", timeout=5, headers=auth.headers()
        )
        return response.json() if response.status_code == 200 else None

    delivery = wait_until(scheduled, 30, f"delivery {delivery_id} via {broker}")
    assignment = requests.get(
        f"{urls['dronescheduler']}/api/dronedeliveries/{delivery_id}",
        timeout=5,
        headers=auth.headers(),
    ).json()
    assert assignment["droneId"] == delivery["droneId"]
    assert (
        requests.get(
            f"{urls['package']}/api/packages/pkg-ms-1", timeout=5, headers=auth.headers()
        ).status_code
        == 200
    )


def test_a_role_answers_404_for_another_roles_paths(live):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    live.start("package", ["serve", "--role", "package", "--port", str(port)])
    live.wait_ready(base)

    unknown_package = requests.get(f"{base}/api/packages/nope", timeout=5, headers=auth.headers())
    assert unknown_package.status_code == 404
    assert unknown_package.json()["title"] == "Package not found"
    foreign = requests.get(f"{base}/api/deliveries/some-id", timeout=5, headers=auth.headers())
    assert foreign.status_code == 404
    assert foreign.headers["Content-Type"] == "application/problem+json"
    assert foreign.json()["detail"] == "No resource at /api/deliveries/some-id."
    assert requests.get(f"{base}/healthz/live", timeout=5).json()["role"] == "package"


def test_the_workflow_workers_probes_report_its_role_and_stores(live):
    port = free_port()
    live.start("workflow", ["serve", "--role", "workflow", "--port", str(port)])
    base = f"http://127.0.0.1:{port}"
    live.wait_ready(base)
    assert requests.get(f"{base}/healthz/live", timeout=5).json() == {
        "status": "live",
        "role": "workflow",
    }
    assert requests.get(f"{base}/healthz/startup", timeout=5).json()["status"] == "ready"


def test_probes_answer_whatever_host_the_kubelet_uses(live):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    live.start(
        "delivery",
        ["serve", "--role", "delivery", "--port", str(port)],
        {
            "DEBUG": "false",
            "SECRET_KEY": "e2e-only-not-secret",
            "ALLOWED_HOSTS": "api.fabrikam.example",
        },
    )
    live.wait_ready(base)
    assert (
        requests.get(
            f"{base}/healthz/live", headers={"Host": "10.244.1.17:8000"}, timeout=5
        ).status_code
        == 200
    )
    refused = requests.get(
        f"{base}/api/deliveries/x",
        headers={**auth.headers(), "Host": "10.244.1.17:8000"},
        timeout=5,
    )
    assert refused.status_code == 400
