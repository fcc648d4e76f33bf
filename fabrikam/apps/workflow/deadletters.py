"""The dead-letter queue: messages the workflow cannot process, each with the reason and the
original body, for an operator to inspect and replay (`manage.py deadletters`).

It is a broker queue beside the delivery-requests queue (on Service Bus an ordinary queue, so
the same code works on every broker)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from kombu import Connection, Message, Queue

from fabrikam.celery import app
from fabrikam.contract.messages import TASK_NAME
from fabrikam.messaging import broker

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    reason: str
    failed_at: str
    attempts: int
    original_body: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "messageId": self.message_id,
            "reason": self.reason,
            "failedAt": self.failed_at,
            "attempts": self.attempts,
            "originalBody": self.original_body,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeadLetter:
        return cls(
            data.get("messageId", ""),
            data.get("reason", ""),
            data.get("failedAt", ""),
            int(data.get("attempts", 0)),
            data.get("originalBody"),
        )


def queue() -> Queue:
    return broker.queue(settings.DELIVERY_REQUESTS_DEADLETTER_QUEUE, settings.CELERY_BROKER_URL)


def publish(message_id: str, reason: str, original_body: Any, attempts: int = 0) -> None:
    letter = DeadLetter(
        message_id or "unknown", reason, datetime.now(UTC).isoformat(), attempts, original_body
    )
    with app.producer_or_acquire() as producer:
        producer.publish(
            letter.as_dict(),
            exchange=queue().exchange,
            routing_key=queue().routing_key,
            declare=[queue()],
            serializer="json",
            delivery_mode=2,
            headers={"x-dead-letter-reason": reason[:500]},
            message_id=letter.message_id,
            retry=True,
            retry_policy={"max_retries": 3},
        )
    logger.error("dead-lettered message %s: %s", letter.message_id, reason)


def _drain(connection: Connection, limit: int) -> list[tuple[DeadLetter, Message]]:
    bound = queue()(connection.default_channel)
    bound.declare()
    taken: list[tuple[DeadLetter, Message]] = []
    while len(taken) < limit:
        message = bound.get(no_ack=False, accept=["json"])
        if message is None:
            break
        taken.append((DeadLetter.from_dict(message.decode()), message))
    return taken


def browse(limit: int = 100) -> list[DeadLetter]:
    """The dead letters, oldest first, left on the queue."""
    with app.connection_for_write() as connection:
        taken = _drain(connection, limit)
        for _letter, message in taken:
            message.requeue()
        return [letter for letter, _ in taken]


def replay(message_id: str, limit: int = 1000) -> DeadLetter | None:
    """Put a dead letter's original message back on the delivery-requests queue, and remove it
    from the dead-letter queue. Returns None when no dead letter has that id."""
    with app.connection_for_write() as connection:
        taken = _drain(connection, limit)
        found = None
        for letter, message in taken:
            if found is None and letter.message_id == message_id:
                found = letter
                app.send_task(
                    TASK_NAME,
                    args=[letter.original_body],
                    kwargs={"replayed": True},
                    task_id=letter.message_id,
                    queue=settings.CELERY_TASK_DEFAULT_QUEUE,
                )
                message.ack()
            else:
                message.requeue()
        return found


def describe(letter: DeadLetter) -> str:
    return json.dumps(letter.as_dict(), indent=2, default=str)
