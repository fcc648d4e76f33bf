"""The saga's own store failing mid-message (Redis restarting) must not lose the request: the
task tries again later instead of failing, which would acknowledge the message.
(tests/chaos `redis-restarted` found the loss under load.)"""

from __future__ import annotations

import pytest
from celery.exceptions import Reject
from redis.exceptions import ConnectionError as RedisConnectionError

from fabrikam.apps.workflow import services, tasks

MESSAGE = {"operation": "cancel", "deliveryId": "d-store-outage"}


@pytest.fixture
def store_down_once(monkeypatch):
    calls = []

    def handle(message, attempt=0, replayed=False):
        calls.append(attempt)
        if len(calls) == 1:
            raise RedisConnectionError("Connection closed by server.")
        return services.Outcome(services.Status.CANCELLED, "cancelled by the client")

    monkeypatch.setattr(services, "handle", handle)
    return calls


def test_a_message_whose_store_fails_is_tried_again_not_dropped(store_down_once):
    result = tasks.handle_delivery_request.apply(args=[MESSAGE])
    assert result.get() == "cancelled"
    assert store_down_once == [0, 0]  # retried, and the outage spent no attempt


def test_when_the_broker_cannot_take_the_retry_the_message_goes_back_to_it(
    store_down_once, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker away too")

    monkeypatch.setattr(tasks.handle_delivery_request, "retry", broker_down)
    result = tasks.handle_delivery_request.apply(args=[MESSAGE])
    assert result.state == "REJECTED"
    assert isinstance(result.result, Reject)
    assert result.result.requeue is True
