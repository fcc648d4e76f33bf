"""The ingestion role under gunicorn against a real broker — Redis always, RabbitMQ in CI — with
real concurrency and real faults between the two (a crashed Redis, a cut or hung connection)."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.ingestion import broker as queue_reader
from tests.ingestion.factories import DeliveryRequestFactory
from tests.ingestion.servers import Broker, broker_for_test
from tests.support import auth
from tests.support.live import LiveSystem, free_port

pytestmark = [pytest.mark.e2e]

PARALLEL = 20


@pytest.fixture(
    params=[
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("rabbitmq", marks=pytest.mark.rabbitmq),
    ]
)
def broker(request, tmp_path: Path) -> Iterator[Broker]:
    with broker_for_test(request.param, tmp_path) as running:
        yield running


class Ingestion:
    def __init__(self, base_url: str, broker: Broker, queue: str) -> None:
        self.base_url = base_url
        self.broker = broker
        self.queue = queue

    def post(self, body: dict, key: str | None = None) -> requests.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return requests.post(
            f"{self.base_url}/api/deliveryrequests",
            json=body,
            headers={**auth.headers(), **headers},
            timeout=30,
        )

    def queued(self) -> list[queue_reader.Received]:
        return queue_reader.drain(self.broker.direct_url, self.queue)


@pytest.fixture
def ingestion(broker: Broker, tmp_path: Path, redis_store) -> Iterator[Ingestion]:
    """`manage.py serve --role ingestion` (2 gunicorn workers x 10 threads) publishing to
    `broker` through its proxy, on a queue of its own."""
    queue = queue_reader.unique_queue()
    env = {
        **os.environ,
        "DEBUG": "true",
        "FABRIKAM_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ingestion.sqlite3'}",
        "CELERY_BROKER_URL": broker.url,
        "DELIVERY_REQUESTS_QUEUE": queue,
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "10",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("FABRIKAM_ROLE", None)
    system = LiveSystem(env, tmp_path)
    port = free_port()
    system.start("ingestion", ["serve", "--role", "ingestion", "--port", str(port)])
    base_url = f"http://127.0.0.1:{port}"
    try:
        system.wait_ready(base_url)
        yield Ingestion(base_url, broker, queue)
    finally:
        system.stop()
        queue_reader.delete(broker.direct_url, queue, f"{queue}-deadletter")


def in_parallel(calls: list) -> list[requests.Response]:
    """Run the calls at the same moment, one thread each."""
    start = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = calls[index]()
        except Exception as exc:  # reported below with the others
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(isinstance(r, requests.Response) for r in results), results
    return results


def test_an_accepted_request_is_on_the_queue_as_the_workflow_reads_it(ingestion):
    body = DeliveryRequestFactory()
    trace_id = uuid.uuid4().hex
    response = requests.post(
        f"{ingestion.base_url}/api/deliveryrequests",
        json=body,
        headers={**auth.headers(), **{"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    delivery_id = response.json()["deliveryId"]

    [message] = ingestion.queued()
    assert message.body["operation"] == "delivery"
    assert message.body["deliveryId"] == delivery_id
    assert message.body["packageInfo"] == {**body["packageInfo"]}
    assert message.body["pickup"] == {"latitude": 47.6097, "longitude": -122.3331, "altitude": 0.0}
    assert message.headers["task"] == "workflow.handle_delivery_request"
    assert message.headers["id"] == f"{delivery_id}:delivery:1"
    assert message.headers["traceparent"].startswith(f"00-{trace_id}-")


def test_parallel_retries_with_one_idempotency_key_queue_one_message(ingestion):
    body = DeliveryRequestFactory()
    key = str(uuid.uuid4())

    responses = in_parallel([lambda: ingestion.post(body, key)] * PARALLEL)

    assert [r.status_code for r in responses] == [202] * PARALLEL, [r.text for r in responses]
    delivery_ids = {r.json()["deliveryId"] for r in responses}
    assert len(delivery_ids) == 1
    [message] = ingestion.queued()
    assert message.body["deliveryId"] == delivery_ids.pop()


def test_parallel_distinct_requests_are_each_queued_once(ingestion):
    bodies = DeliveryRequestFactory.create_batch(PARALLEL)

    responses = in_parallel([lambda b=b: ingestion.post(b, str(uuid.uuid4())) for b in bodies])

    assert [r.status_code for r in responses] == [202] * PARALLEL, [r.text for r in responses]
    queued = ingestion.queued()
    assert sorted(m.body["deliveryId"] for m in queued) == sorted(
        r.json()["deliveryId"] for r in responses
    )
    assert sorted(m.body["packageInfo"]["packageId"] for m in queued) == sorted(
        b["packageInfo"]["packageId"] for b in bodies
    )


def assert_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert response.json()["type"].endswith("/broker-unavailable")


def test_a_broker_that_is_down_gets_a_503_and_a_retry_succeeds_once_it_is_back(ingestion):
    before = ingestion.post(DeliveryRequestFactory())  # connections in the pool, then a fault
    assert before.status_code == 202, before.text
    body, key = DeliveryRequestFactory(), str(uuid.uuid4())

    ingestion.broker.go_down()
    assert_unavailable(ingestion.post(body, key))
    assert_unavailable(ingestion.post(body, key))

    ingestion.broker.come_back()
    retried = ingestion.post(body, key)
    assert retried.status_code == 202, retried.text
    again = ingestion.post(body, key)
    assert again.json()["deliveryId"] == retried.json()["deliveryId"]

    queued = ingestion.queued()  # the message accepted before the crash survived it
    assert [m.body["deliveryId"] for m in queued] == [
        before.json()["deliveryId"],
        retried.json()["deliveryId"],
    ]


def test_a_broker_that_hangs_gets_a_503_instead_of_a_hung_request(ingestion):
    assert ingestion.post(DeliveryRequestFactory()).status_code == 202
    ingestion.queued()
    body, key = DeliveryRequestFactory(), str(uuid.uuid4())

    ingestion.broker.hang()
    assert_unavailable(ingestion.post(body, key))  # within requests' own 30 s timeout

    ingestion.broker.recover()
    retried = ingestion.post(body, key)
    assert retried.status_code == 202, retried.text
    [message] = ingestion.queued()
    assert message.body["deliveryId"] == retried.json()["deliveryId"]
    assert message.headers["id"] == f"{retried.json()['deliveryId']}:delivery:1"
