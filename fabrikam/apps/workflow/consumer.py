"""The workflow worker's consumer: messages Celery cannot even turn into a task (not JSON, not a
task message, an unknown task name) go to the dead-letter queue instead of being dropped."""

from __future__ import annotations

from typing import Any

from celery.worker.consumer import Consumer


def _body(message: Any) -> Any:
    try:
        return message.decode()
    except Exception:  # the point is that it may not decode
        raw = message.body
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


class DeadLetteringConsumer(Consumer):
    def _dead_letter(self, message: Any, reason: str) -> None:
        from fabrikam.apps.workflow import deadletters

        headers = getattr(message, "headers", None) or {}
        message_id = headers.get("id") or message.properties.get("correlation_id") or ""
        deadletters.publish(message_id, reason, _body(message))

    def on_decode_error(self, message: Any, exc: Exception) -> None:
        self._dead_letter(message, f"unparseable message: {exc}")
        message.ack()

    def on_unknown_message(self, body: Any, message: Any) -> None:
        self._dead_letter(message, "not a task message")
        message.ack()

    def on_unknown_task(self, body: Any, message: Any, exc: Exception) -> None:
        self._dead_letter(message, f"unknown task: {exc}")
        message.ack()
