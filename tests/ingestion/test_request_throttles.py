"""POST /api/deliveryrequests counts its throttles in the same Redis round trip as the new
delivery's owner record (ThrottledWithWrite); a request over its rate is still a 429 whatever else
is wrong with it, and a refused request leaves nothing behind."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from redis.asyncio.connection import AbstractConnection as AsyncConnection
from redis.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.accounts.conftest import business_api  # noqa: F401 - fixture
from tests.accounts.test_throttling import assert_throttled
from tests.ingestion import broker
from tests.ingestion.factories import DeliveryRequestFactory

# Every POST here once through the fast validation path and once through the serializer alone.
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("validation_path", "through_the_bridge"),
]

URL = "/api/deliveryrequests"


@pytest.fixture
def contoso(business_api, redis_store):  # noqa: F811 - the fixture imported above
    """A business's API client (read and write), with the store emptied around the test."""
    return business_api("contoso")


def packed(command: Any) -> bytes:
    """A command as redis-py sends it (bytes, or a list of chunks), in one piece."""
    return b"".join(command) if isinstance(command, list) else command


@pytest.fixture
def round_trips(redis_round_trips, monkeypatch) -> list[bytes]:
    """`redis_round_trips`, the server's event loop's (redis.asyncio) included."""
    send = AsyncConnection.send_packed_command

    async def counted(self: AsyncConnection, command: Any, check_health: bool = True) -> None:
        redis_round_trips.append(command)
        await send(self, command, check_health)

    monkeypatch.setattr(AsyncConnection, "send_packed_command", counted)
    return redis_round_trips


def owners(redis_store) -> list[bytes]:
    return redis_store.keys("*ingestion:owner:*")


def queued(settings, queue) -> int:
    return len(broker.drain(settings.CELERY_BROKER_URL, queue))


def test_a_new_delivery_is_one_round_trip_to_the_store_with_its_throttles(
    contoso,
    redis_store,
    round_trips,
    queue,
):
    assert contoso.post(URL, DeliveryRequestFactory(), format="json").status_code == 202  # warm
    round_trips.clear()

    response = contoso.post(URL, DeliveryRequestFactory(), format="json")

    assert response.status_code == 202, response.content
    to_the_store = [sent for sent in round_trips if queue.encode() not in packed(sent)]
    assert len(to_the_store) == 1  # the throttles' hits and the owner, together
    assert len(owners(redis_store)) == 2
    client_key = next(k for k in redis_store.keys("*ratelimit:client:*"))
    ip_key = next(k for k in redis_store.keys("*ratelimit:ip:*"))
    assert int(redis_store.get(client_key)) == int(redis_store.get(ip_key)) == 2


REFUSED_ANYWAY: dict[str, dict[str, Any]] = {
    "valid": {},
    "invalid body": {"data": {"ownerId": "contoso"}, "format": "json"},
    "malformed JSON": {"data": b"{", "content_type": "application/json"},
    "not JSON": {"data": b"ownerId=contoso", "content_type": "text/plain"},
    "another business's owner": {"data": DeliveryRequestFactory(ownerId="globex")},
    "bad Idempotency-Key": {"headers": {"Idempotency-Key": "\x01"}},
}
UNDER_THE_RATE = {
    "valid": 202,
    "invalid body": 400,
    "malformed JSON": 400,
    "not JSON": 415,
    "another business's owner": 403,
    "bad Idempotency-Key": 400,
}


def post(client, case: str):
    options = {"data": DeliveryRequestFactory(), "format": "json", **REFUSED_ANYWAY[case]}
    if "content_type" in options:
        options.pop("format")
    return client.post(URL, **options)


@pytest.mark.parametrize("case", REFUSED_ANYWAY)
@override_settings(THROTTLE_CLIENT_RATE="2/minute", THROTTLE_IP_RATE="1000/minute")
def test_a_request_over_its_rate_is_a_429_whatever_else_is_wrong_with_it(
    contoso,
    queue,
    settings,
    case,
):
    assert post(contoso, case).status_code == UNDER_THE_RATE[case]
    assert post(contoso, "valid").status_code == 202

    assert_throttled(post(contoso, case))
    assert_throttled(post(contoso, "valid"))  # the refused one was counted too
    assert queued(settings, queue) == 1 + (case == "valid")


@pytest.mark.parametrize("with_key", [False, True])
@override_settings(THROTTLE_CLIENT_RATE="1/minute", THROTTLE_IP_RATE="1000/minute")
def test_a_refused_request_leaves_no_owner_and_queues_nothing(
    contoso,
    redis_store,
    queue,
    settings,
    with_key,
):
    headers = {"Idempotency-Key": "k-1"} if with_key else {}
    assert contoso.post(URL, DeliveryRequestFactory(), format="json").status_code == 202
    idempotency_keys = redis_store.keys("*ingestion:v1:idem:*")

    assert_throttled(contoso.post(URL, DeliveryRequestFactory(), format="json", headers=headers))

    assert len(owners(redis_store)) == 1
    assert redis_store.keys("*ingestion:v1:idem:*") == idempotency_keys
    assert queued(settings, queue) == 1


@override_settings(THROTTLE_CLIENT_RATE="1000/minute", THROTTLE_IP_RATE="1000/minute")
def test_a_store_that_does_not_answer_is_a_503_and_nothing_is_queued(
    contoso,
    queue,
    settings,
    monkeypatch,
):
    assert contoso.post(URL, DeliveryRequestFactory(), format="json").status_code == 202
    send = AbstractConnection.send_packed_command

    def store_down(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        if queue.encode() not in packed(command):  # the broker (embedded Redis) still answers
            raise RedisConnectionError("Error 111 connecting to the store")
        send(self, command, check_health)

    send_async = AsyncConnection.send_packed_command

    async def store_down_async(self: AsyncConnection, command: Any, check_health: bool = True):
        if queue.encode() not in packed(command):
            raise RedisConnectionError("Error 111 connecting to the store")
        await send_async(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", store_down)
    monkeypatch.setattr(AsyncConnection, "send_packed_command", store_down_async)
    response = contoso.post(URL, DeliveryRequestFactory(), format="json")
    monkeypatch.undo()

    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert int(response["Retry-After"]) >= 1
    assert queued(settings, queue) == 1
