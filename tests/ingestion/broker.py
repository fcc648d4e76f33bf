"""Reading back what the ingestion put on a real broker, with kombu, as the workflow would."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

from kombu import Connection

from fabrikam.messaging import broker
from tests.support.tools import missing


@dataclass(frozen=True)
class Received:
    body: dict[str, Any]  # the queue message (the task's single argument)
    headers: dict[str, Any]
    properties: dict[str, Any]


def unique_queue() -> str:
    return f"h3-deliveryrequests-{uuid.uuid4().hex[:10]}"


def rabbitmq_url() -> str:
    url = os.environ.get("RABBITMQ_URL") or os.environ.get("CELERY_BROKER_URL", "")
    if broker.kind(url or "redis://") != broker.AMQP:
        missing(
            "RabbitMQ is not configured: set RABBITMQ_URL=amqp://user:pass@host:5672// "
            "(see .ci/start-rabbitmq.sh)"
        )
    return url


def drain(url: str, queue_name: str) -> list[Received]:
    """Every message on `queue_name`, removed from it."""
    received = []
    with Connection(url, connect_timeout=5) as connection:
        queue = broker.queue(queue_name, url)(connection.default_channel)
        queue.declare()  # reading a queue nothing was ever published to is not an error
        while (message := queue.get(no_ack=True)) is not None:
            args, _kwargs, _embed = message.decode()
            received.append(Received(args[0], dict(message.headers), dict(message.properties)))
    return received


def accepts_messages_for(url: str, queue_name: str) -> bool:
    """Publish a message to `queue_name`'s exchange without declaring anything, as a publisher
    that trusts the queue to exist would, and read it back: True if the broker routed it there."""
    probe = {"probe": uuid.uuid4().hex}
    with Connection(url, connect_timeout=5) as connection:
        queue = broker.queue(queue_name, url)
        try:
            connection.Producer().publish(
                probe, exchange=queue.exchange, routing_key=queue.routing_key, declare=[]
            )
            message = queue(connection.default_channel).get(no_ack=True)
        except connection.channel_errors:  # AMQP: no such exchange or queue
            return False
        return message is not None and message.decode() == probe


def delete(url: str, *queue_names: str) -> None:
    """Remove the queues and their exchanges (the test's, on a broker others share)."""
    with Connection(url, connect_timeout=5) as connection:
        for name in queue_names:
            queue = broker.queue(name, url)(connection.default_channel)
            queue.delete()
            queue.exchange.delete()
