"""The publisher builds the Celery task message itself (fabrikam/apps/ingestion/publisher.py):
what reaches the broker is what Celery's `send_task` puts there for the same call, read back from
the configured broker (the embedded Redis, or RabbitMQ in CI)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from kombu import Connection

from fabrikam.apps.ingestion import publisher
from fabrikam.celery import app
from fabrikam.contract.messages import TASK_NAME
from fabrikam.messaging import broker

TRACE = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
MESSAGE = {"operation": "delivery", "deliveryId": "d-1", "ownerId": "contoso", "expedited": True}


def send_task(message_id: str) -> None:
    """How the publisher published before, through Celery's send_task."""
    targets = publisher.queues()
    with app.connection_for_write() as connection:
        app.send_task(
            TASK_NAME,
            args=[MESSAGE],
            task_id=message_id,
            message_id=message_id,
            argsrepr=f"[{message_id}]",
            queue=targets[0],
            declare=targets,
            headers=TRACE,
            retry=False,
            timeout=settings.BROKER_PUBLISH_TIMEOUT,
            confirm_timeout=settings.BROKER_PUBLISH_TIMEOUT,
            connection=connection,
        )


def read(queue_name: str) -> list[dict[str, Any]]:
    """Each message on the queue as the worker's consumer sees it, but its broker-given tag."""
    url = settings.CELERY_BROKER_URL
    seen = []
    with Connection(url, connect_timeout=5) as connection:
        queue = broker.queue(queue_name, url)(connection.default_channel)
        while (message := queue.get(no_ack=True)) is not None:
            properties = {k: v for k, v in message.properties.items() if k != "delivery_tag"}
            info = message.delivery_info
            seen.append(
                {
                    "body": message.body,
                    "decoded": message.decode(),
                    "headers": message.headers,
                    "properties": properties,
                    "content_type": message.content_type,
                    "content_encoding": message.content_encoding,
                    "routing": (info.get("exchange"), info.get("routing_key")),
                }
            )
    return seen


def test_the_published_message_is_the_one_celery_send_task_publishes(queue):
    publisher.publish(MESSAGE, "d-1:delivery:1", TRACE)
    send_task("d-1:delivery:1")

    ours, celerys = read(queue)

    assert ours == celerys
    assert ours["headers"]["id"] == ours["properties"]["message_id"] == "d-1:delivery:1"
    assert ours["headers"]["traceparent"] == TRACE["traceparent"]
    assert ours["decoded"][0] == [MESSAGE]
