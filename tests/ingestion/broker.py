"""Reading back what the ingestion put on a real broker, with kombu, as the workflow would."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

from kombu import Connection

from fabrikam import broker
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
        missing("RabbitMQ is not configured: set RABBITMQ_URL=amqp://user:pass@host:5672//")
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


def exists(url: str, queue_name: str) -> bool:
    with Connection(url, connect_timeout=5) as connection:
        channel = connection.channel()
        try:
            broker.queue(queue_name, url)(channel).queue_declare(passive=True)
        except connection.channel_errors:
            return False
        finally:
            channel.close()
    return True


def delete(url: str, *queue_names: str) -> None:
    with Connection(url, connect_timeout=5) as connection:
        for name in queue_names:
            broker.queue(name, url)(connection.default_channel).delete()
