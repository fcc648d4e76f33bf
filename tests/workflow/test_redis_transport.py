"""The worker's Redis transport (fabrikam/messaging/redis_transport.py) against kombu's own, on a
real Redis: what a consumer receives, what stays recorded as unacknowledged until its ack (and is
handed out again when its consumer dies), and how many round trips that takes."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from kombu import Exchange, Queue
from kombu.utils.json import loads

from fabrikam.messaging import broker, redis_transport
from tests.support.live import redis_broker_url

pytestmark = pytest.mark.redis

TRANSPORTS = {
    "pipelined": "fabrikam.messaging.redis_transport:Transport",
    "kombu": None,  # BROKER_REDIS_PIPELINED=false
}


@pytest.fixture(params=sorted(TRANSPORTS))
def transport(request) -> str | None:
    return TRANSPORTS[request.param]


@pytest.fixture
def names() -> Iterator[dict[str, str]]:
    """A queue and unacknowledged-message keys of this test's own, deleted afterwards."""
    tag = uuid.uuid4().hex[:10]
    found = {"queue": f"t-redis-transport-{tag}", "unacked": f"unacked-{tag}"}
    found["unacked_index"] = f"{found['unacked']}-index"
    yield found
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.delete(found["queue"], found["unacked"], found["unacked_index"])
    client.close()


def connect(transport: str | None, names: dict[str, str], **options: Any) -> Any:
    return redis_transport.Connection(
        redis_broker_url(os.environ["REDIS_URL"]),
        transport=transport,
        transport_options={
            "unacked_key": names["unacked"],
            "unacked_index_key": names["unacked_index"],
            **options,
        },
    )


def queue_of(names: dict[str, str]) -> Queue:
    name = names["queue"]
    return Queue(name, Exchange(name, type="direct"), routing_key=name)


def publish(connection: Any, names: dict[str, str], count: int) -> None:
    producer = connection.Producer()
    for n in range(count):
        producer.publish(
            {"n": n}, exchange=queue_of(names).exchange, routing_key=names["queue"],
            declare=[queue_of(names)],
        )  # fmt: skip


def consume(connection: Any, names: dict[str, str], count: int, ack: bool) -> list[Any]:
    """Up to `count` messages, acked as they arrive (or not), then one more look at the queue."""
    received: list[Any] = []

    def on_message(body: Any, message: Any) -> None:
        received.append(message)
        if ack:
            message.ack()

    with connection.Consumer([queue_of(names)], callbacks=[on_message], prefetch_count=count):
        while len(received) < count:
            connection.drain_events(timeout=5)
        with pytest.raises(TimeoutError):
            connection.drain_events(timeout=0.2)  # nothing left: the last fetch finds none
    return received


def unacked(names: dict[str, str]) -> dict[str, Any]:
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        records = client.hgetall(names["unacked"])
        index = {tag.decode() for tag in client.zrange(names["unacked_index"], 0, -1)}
    finally:
        client.close()
    assert index == {tag.decode() for tag in records}, "index and records disagree"
    return {tag.decode(): loads(record) for tag, record in records.items()}


def test_the_default_redis_broker_uses_the_pipelined_transport_for_a_socket_url(monkeypatch):
    from fabrikam.celery import app

    url = redis_broker_url(os.environ["REDIS_URL"])
    # The transport the settings choose for a Redis broker URL (the suite's broker may be RabbitMQ).
    monkeypatch.setitem(app.conf, "broker_transport", broker.transport(url))
    with app.connection_for_write(url) as connection:
        assert isinstance(connection.transport, redis_transport.Transport)
        assert connection.info()["transport"] == TRANSPORTS["pipelined"]


def test_every_message_is_received_once_in_order_and_nothing_stays_unacknowledged(transport, names):
    with connect(transport, names) as connection:
        publish(connection, names, 5)
        received = consume(connection, names, 5, ack=True)
        assert [m.decode() for m in received] == [{"n": n} for n in range(5)]
    assert unacked(names) == {}


def test_a_message_is_recorded_as_kombu_records_it_until_it_is_acked(transport, names):
    with connect(transport, names) as connection:
        publish(connection, names, 2)
        first, second = consume(connection, names, 2, ack=False)
        records = unacked(names)
        assert records == {
            m.delivery_tag: [m._raw, names["queue"], names["queue"]] for m in (first, second)
        }
        first.ack()
        second.ack()
    assert unacked(names) == {}  # sent by the next command at the latest, here the close


def test_a_consumer_that_dies_before_its_ack_has_the_message_handed_out_again(transport, names):
    dead = connect(transport, names)
    publish(dead, names, 1)
    (lost,) = consume(dead, names, 1, ack=False)
    assert set(unacked(names)) == {lost.delivery_tag}
    # `dead` is never closed, as after a SIGKILL: its message waits for the visibility timeout

    with connect(transport, names, visibility_timeout=0, unacked_restore_throttle=1) as other:
        other.default_channel.qos.restore_visible()  # a live worker's periodic sweep
        (again,) = consume(other, names, 1, ack=True)
        assert again.decode() == lost.decode()
        assert again.delivery_info.get("redelivered") is True
    assert unacked(names) == {}
    dead.release()  # its sockets (the message it held is back and acked: nothing to restore)


class Died(BaseException):
    """The worker killed as a message reaches it (a SIGKILL runs no handler: nothing catches it)."""


def queue_length(names: dict[str, str]) -> int:
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        return client.llen(names["queue"])
    finally:
        client.close()


def drain_for(connection: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(TimeoutError):
            connection.drain_events(timeout=0.2)


def killed_as_a_message_reaches_an_idle_worker(
    transport: str | None, names: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A consumer waits on an empty queue; a message comes; the consumer dies as it is handed
    the message, before the task (and anything the transport does after delivering) runs."""
    dead = connect(transport, names)
    with dead.Consumer([queue_of(names)], callbacks=[lambda body, message: None]):
        with pytest.raises(TimeoutError):
            dead.drain_events(timeout=0.3)  # found nothing: now waiting for a message
        with connect(transport, names) as client:
            publish(client, names, 1)

        def die(*args: Any) -> None:
            raise Died()

        monkeypatch.setattr(dead.transport, "_deliver", die)
        with pytest.raises(Died):
            drain_for(dead, seconds=5.0)
    # `dead` is never closed, as after a SIGKILL


def test_a_worker_killed_as_a_message_reaches_it_after_waiting_leaves_it_recorded(
    names, monkeypatch
):
    killed_as_a_message_reaches_an_idle_worker(TRANSPORTS["pipelined"], names, monkeypatch)

    # Recorded as unacknowledged, so the visibility timeout hands it out again.
    assert queue_length(names) == 0
    assert [record[0]["body"] for record in unacked(names).values()] != []


def test_kombus_brpop_loses_a_message_whose_worker_is_killed_as_it_reaches_it(names, monkeypatch):
    # Why the pipelined transport waits with BLMOVE: BRPOP took the message out of the queue,
    # and the worker died before recording it as unacknowledged.
    killed_as_a_message_reaches_an_idle_worker(TRANSPORTS["kombu"], names, monkeypatch)

    assert (queue_length(names), unacked(names)) == (0, {})


def consuming_round_trips(sent: list[bytes]) -> int:
    """Round trips of fetching, recording and acknowledging (not the queue's declaration)."""
    words = (b"\r\nBRPOP\r\n", b"\r\nBLMOVE\r\n", b"\r\nEVAL\r\n", b"\r\nZADD\r\n", b"\r\nZREM\r\n")
    packed = [b"".join(c) if isinstance(c, list | tuple) else bytes(c) for c in sent]
    return sum(any(word in command for word in words) for command in packed)


def test_while_messages_wait_each_takes_one_round_trip_to_fetch_record_and_ack(
    names, redis_round_trips
):
    with connect(TRANSPORTS["pipelined"], names) as connection:
        publish(connection, names, 20)
        redis_round_trips.clear()
        consume(connection, names, 20, ack=True)
        # one script per message, each carrying the ack of the one before; then the look that
        # finds the queue empty (the last ack), and the BLMOVE that waits for more
        assert consuming_round_trips(redis_round_trips) <= 20 + 2
    assert unacked(names) == {}


def test_kombu_takes_three_round_trips_per_message(names, redis_round_trips):
    with connect(TRANSPORTS["kombu"], names) as connection:
        publish(connection, names, 20)
        redis_round_trips.clear()
        consume(connection, names, 20, ack=True)
        assert consuming_round_trips(redis_round_trips) >= 3 * 20
    assert unacked(names) == {}


def test_a_channel_publishes_through_one_redis_client(names, monkeypatch):
    built: list[Any] = []
    init = redis.Redis.__init__

    def counted(self: redis.Redis, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        init(self, *args, **kwargs)

    with connect(TRANSPORTS["pipelined"], names) as connection:
        connection.default_channel  # noqa: B018 - connected first
        monkeypatch.setattr(redis.Redis, "__init__", counted)
        publish(connection, names, 10)
    assert len(built) <= 1


def test_broker_redis_pipelined_off_keeps_kombus_transport():
    url = redis_broker_url(os.environ["REDIS_URL"])
    assert broker.transport(url, redis_pipelined=False) is None
    assert broker.transport(url) == TRANSPORTS["pipelined"]
    assert broker.transport("amqp://guest@localhost//") is None
