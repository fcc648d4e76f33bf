"""What accepting a delivery request costs over publishing its message bare.

Baseline: Celery's own `send_task` of the same message to the same broker (what the first version
did). Measured in the same run: the ingestion's bounded publish alone (its pool, liveness probe,
timeouts), then POST /api/deliveryrequests in-process (Django and DRF, validation, message id,
publish, 202) without and with an Idempotency-Key (the claim and settle scripts), and a retry
answered from the key alone. Prints each as a ratio to the baseline.

Runs on the embedded Redis unless REDIS_URL / CELERY_BROKER_URL point elsewhere (e.g. RabbitMQ).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support.local_stores import local_stores

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "400"))
ROUNDS = 5


def main() -> None:
    os.environ["DELIVERY_REQUESTS_QUEUE"] = f"bench-{uuid.uuid4().hex[:8]}"
    with local_stores():
        run()


def timed(name: str, operation: Callable[[int], object]) -> float:
    """Median over ROUNDS of the mean seconds per operation."""
    rounds = []
    for round_number in range(ROUNDS):
        started = time.perf_counter()
        for i in range(REQUESTS):
            operation(round_number * REQUESTS + i)
        rounds.append((time.perf_counter() - started) / REQUESTS)
        print(f"  {name}: round {round_number + 1}/{ROUNDS}", flush=True)
    return statistics.median(rounds)


def run() -> None:
    import django

    django.setup()
    from django.conf import settings
    from rest_framework.test import APIClient

    from fabrikam.apps.ingestion import publisher
    from fabrikam.celery import app
    from fabrikam.contract.messages import TASK_NAME
    from tests.ingestion import broker
    from tests.ingestion.factories import DeliveryRequestFactory
    from tests.support import auth

    client = APIClient(HTTP_HOST="127.0.0.1")
    # An internal+admin token: the same as before authentication existed, plus one signature
    # check; what a business token adds is bench/auth_overhead.py's subject.
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {auth.token()}")
    body = DeliveryRequestFactory()
    message = {"operation": "delivery", "deliveryId": "x" * 32, **body}
    queue = settings.DELIVERY_REQUESTS_QUEUE

    def bare(i: int) -> None:
        app.send_task(TASK_NAME, args=[message], task_id=f"bench-{i}", queue=queue)

    def post(i: int, key: str | None = None) -> None:
        headers = {"Idempotency-Key": key} if key else {}
        response = client.post("/api/deliveryrequests", body, format="json", headers=headers)
        assert response.status_code == 202, response.status_code

    run_id = uuid.uuid4().hex[:8]
    post(0, f"{run_id}-retried")
    print(f"broker: {settings.BROKER_KIND}; {REQUESTS} requests x {ROUNDS} rounds", flush=True)
    results = {
        "bare send_task (baseline)": timed("baseline", bare),
        "ingestion publish only": timed(
            "publish", lambda i: publisher.publish(message, f"p{i}", {})
        ),
        "POST, no Idempotency-Key": timed("post", post),
        "POST, new Idempotency-Key": timed("post+key", lambda i: post(i, f"{run_id}-{i}")),
        "POST, retried Idempotency-Key": timed("retry", lambda i: post(i, f"{run_id}-retried")),
    }
    broker.delete(settings.CELERY_BROKER_URL, queue, f"{queue}-deadletter")
    baseline = results["bare send_task (baseline)"]
    print(f"\n{'case':<32}{'ms/request':>12}{'x baseline':>12}")
    for name, seconds in results.items():
        print(f"{name:<32}{seconds * 1000:>12.3f}{seconds / baseline:>12.2f}")


if __name__ == "__main__":
    main()
