"""The workflow's metrics, registered when the app is ready: the depth of the delivery-request and
dead-letter queues (a gauge every role with the broker shows) and the outcome of each message the
saga handles (counted in the worker)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from celery import signals
from django.conf import settings
from kombu.exceptions import ChannelError

from fabrikam.contract.messages import TASK_NAME
from fabrikam.observability import metrics
from fabrikam.roles import Store


def queue_depths() -> dict[str, int]:
    """Messages waiting in the delivery-requests and dead-letter queues, as the broker tells it
    (Redis: the list lengths; AMQP: a passive declare's message_count). A broker that cannot say
    (or cannot be reached) is left out."""
    return depths_of(
        (settings.DELIVERY_REQUESTS_QUEUE, settings.DELIVERY_REQUESTS_DEADLETTER_QUEUE)
    )


def depths_of(queues: Iterable[str]) -> dict[str, int]:
    """Messages waiting (ready, not held by a worker) in each of `queues`, as the broker says."""
    from fabrikam.celery import app

    depths: dict[str, int] = {}
    with app.connection_for_read() as connection:
        connection.ensure_connection(max_retries=1, timeout=settings.HEALTH_CHECK_TIMEOUT)
        for queue in queues:
            channel = connection.channel()
            try:
                depths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
            except ChannelError as exc:
                if not _not_found(exc):
                    raise
                depths[queue] = 0  # not declared yet (AMQP), or no message ever (Redis: no key)
            finally:
                channel.close()
    return depths


def _not_found(error: ChannelError) -> bool:
    # py-amqp sets `code`; kombu's virtual transports (Redis) give the reply code as a string
    return error.code == 404 or str(getattr(error, "reply_code", "")) == "404"


def count_saga_outcome(
    task: Any = None, args: Any = None, retval: Any = None, state: str = "", **kwargs: Any
) -> None:
    """task_postrun: the saga task returns its outcome (completed, compensated, …)."""
    if task is None or task.name != TASK_NAME:
        return
    message = args[0] if args else None
    operation = message.get("operation") if isinstance(message, dict) else None
    outcome = {"SUCCESS": retval, "RETRY": "retried"}.get(state, "failed")
    metrics.record_saga_outcome(operation, outcome)


def register() -> None:
    metrics.register_gauge(
        metrics.Gauge(
            "queue.messages", "queue", "Messages waiting in a queue.", queue_depths, Store.BROKER
        )
    )
    signals.task_postrun.connect(count_saga_outcome, dispatch_uid="workflow-saga-outcomes")
