from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ingestion import broker


@pytest.fixture
def queue(settings, redis_store) -> Iterator[str]:
    """A delivery-request queue (and dead-letter queue) of this test's own on the configured
    broker (the embedded Redis, or RabbitMQ in CI), deleted afterwards."""
    name = broker.unique_queue()
    settings.DELIVERY_REQUESTS_QUEUE = name
    settings.DELIVERY_REQUESTS_DEADLETTER_QUEUE = f"{name}-deadletter"
    yield name
    broker.delete(settings.CELERY_BROKER_URL, name, f"{name}-deadletter")


@pytest.fixture
def received(settings, queue):
    """Drains the test's queue: what the workflow would receive."""
    return lambda: broker.drain(settings.CELERY_BROKER_URL, queue)
