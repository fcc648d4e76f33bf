"""A delivery requested through the ingestion's fast path, completed by a real workflow worker:
`manage.py dev` (`make run`'s shape: one gunicorn worker, so every POST after the first finds the
token and its client cached and is answered on the event loop) on a Redis broker."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import delivery_request, live, system_env  # noqa: F401 - fixtures
from tests.e2e.test_all_in_one import bearer
from tests.support.live import free_port, manage, redis_broker_url, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.redis]


def test_deliveries_requested_through_the_fast_path_are_scheduled_by_the_worker(live):  # noqa: F811
    live.env["CELERY_BROKER_URL"] = redis_broker_url(live.env["REDIS_URL"])
    live.env["INGEST_FAST_PATH"] = "true"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    live.start("dev", ["dev", "--port", str(port), "--no-beat"])
    live.wait_ready(base)
    contoso = bearer(manage(["issue_token", "--owner", "contoso"], live.env))

    ids = []
    for n in range(3):  # the first fills the caches (Django); the others: the event loop
        accepted = requests.post(
            f"{base}/api/deliveryrequests",
            json=delivery_request(f"pkg-fast-{n}"),
            timeout=10,
            headers=contoso,
        )
        assert accepted.status_code == 202, accepted.text
        ids.append(accepted.json()["deliveryId"])

    def scheduled(delivery_id: str) -> dict | None:
        response = requests.get(f"{base}/api/deliveries/{delivery_id}", timeout=5, headers=contoso)
        return response.json() if response.status_code == 200 else None

    for n, delivery_id in enumerate(ids):
        delivery = wait_until(lambda d=delivery_id: scheduled(d), 30, f"delivery {delivery_id}")
        assert delivery["packageId"] == f"pkg-fast-{n}"
        assert delivery["droneId"]
        assert delivery["owner"] == {"userId": "contoso", "accountId": "contoso"}
