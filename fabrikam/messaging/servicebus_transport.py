"""kombu's Azure Service Bus transport, with our message id as the Service Bus `MessageId`.

kombu sends every message with no `MessageId`, so Service Bus gives each send its own and the
queue's duplicate detection (deploy/bicep/modules/servicebus.bicep) never sees a repeat. Here the
id the publisher chose goes there: the AMQP `message_id` property (ingestion's
`{deliveryId}:{operation}:{n}`, the same on every retry of one request), else Celery's task id. A
retry after an unknown outcome (a timeout once the broker had the message) is then dropped by the
queue instead of running the saga twice.

Selected by settings (CELERY_BROKER_TRANSPORT) for `azureservicebus://` URLs; nothing else changes.
"""

from __future__ import annotations

from typing import Any

from azure.servicebus import ServiceBusMessage
from kombu.transport import azureservicebus
from kombu.utils.json import dumps

logger = azureservicebus.logger


def message_id(message: dict[str, Any]) -> str | None:
    """The id a kombu message is known by: its `message_id` property, else Celery's task id."""
    properties = message.get("properties") or {}
    headers = message.get("headers") or {}
    found = properties.get("message_id") or headers.get("id")
    return str(found) if found else None


class Channel(azureservicebus.Channel):
    def _put(self, queue: str, message: dict[str, Any], **kwargs: Any) -> None:
        """kombu's `_put` (same sender reuse and reconnect rules), sending with a MessageId."""
        queue = self.entity_name(self.queue_name_prefix + queue)
        outgoing = ServiceBusMessage(dumps(message), message_id=message_id(message))
        try:
            self._get_asb_sender(queue).sender.send_messages(outgoing)
        except azureservicebus._CONNECTION_LOST_ERRORS:
            # The send failed before the broker had the message: one resend on a fresh sender.
            logger.warning(
                "Connection lost sending to %r, reconnecting sender", queue, exc_info=True
            )
            self._reset_cached_sender(queue)
            self._get_asb_sender(queue).sender.send_messages(outgoing)
        except azureservicebus._TRANSIENT_ERRORS:
            # Unknown whether the broker took it: the caller retries, with the same MessageId.
            logger.warning("Transient error sending to %r, resetting sender", queue, exc_info=True)
            self._reset_cached_sender(queue)
            raise


class Transport(azureservicebus.Transport):
    Channel = Channel
