"""Publishes queue messages through Celery and answers only once the broker has them.

`retry=False` makes a down broker fail fast instead of blocking the request; RabbitMQ publisher
confirms (`confirm_publish`, set in settings) make `send_task` return only after the broker acked.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection
from kombu.exceptions import KombuError, OperationalError

from fabrikam.apps.ingestion.messages import TASK_NAME
from fabrikam.celery import app
from fabrikam.problems import ServiceUnavailable

logger = logging.getLogger(__name__)


class BrokerUnavailable(ServiceUnavailable):
    title = "The request could not be queued"
    slug = "broker-unavailable"


def _sequence_key(delivery_id: str, operation: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:ingestion:v1:seq:{delivery_id}:{operation}"


def next_message_id(delivery_id: str, operation: str) -> str:
    """`{deliveryId}:{operation}:{n}`, n counting this delivery's messages of that operation."""
    n = get_redis_connection("default").incr(_sequence_key(delivery_id, operation))
    return f"{delivery_id}:{operation}:{n}"


def publish(message: dict[str, Any], message_id: str) -> None:
    try:
        app.send_task(
            TASK_NAME,
            args=[message],
            task_id=message_id,
            queue=settings.CELERY_TASK_DEFAULT_QUEUE,
            retry=False,
        )
    except (KombuError, OperationalError, OSError, TimeoutError) as exc:
        logger.warning("publishing %s failed: %s", message_id, exc)
        raise BrokerUnavailable(
            "The message broker did not accept the request; nothing was queued. Retry later.",
            retry_after=settings.BROKER_RETRY_AFTER_SECONDS,
        ) from exc
