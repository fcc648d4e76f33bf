"""Which message broker a `CELERY_BROKER_URL` names, and how Celery must talk to each.

Read by fabrikam/settings/messaging.py only (no Django here). Three brokers are supported:

- Redis (`redis://`, `rediss://`, `redis+socket://`): the embedded default. A publish is accepted
  when Redis answers the LPUSH.
- RabbitMQ (`amqp://`, `amqps://`, `pyamqp://`): publisher confirms, so a publish returns only once
  the broker has the message.
- Azure Service Bus (`azureservicebus://`, kombu's transport): `azureservicebus://POLICY:KEY@NAMESPACE`
  (shared access key), `azureservicebus://DefaultAzureCredential@NAMESPACE` (managed or workload
  identity), or the portal's connection string `Endpoint=sb://NAMESPACE/;SharedAccessKeyName=…;
  SharedAccessKey=…` given as SERVICE_BUS_CONNECTION_STRING and turned into the first form (not as
  CELERY_BROKER_URL: Celery reads that variable itself, and needs a URL). Queues are provisioned by
  Bicep, and the app's identities may only send and listen, so nothing declares queues there.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from kombu import Exchange, Queue

REDIS = "redis"
AMQP = "amqp"
SERVICE_BUS = "azureservicebus"

_KINDS = {
    "redis": REDIS,
    "rediss": REDIS,
    "redis+socket": REDIS,
    "amqp": AMQP,
    "amqps": AMQP,
    "pyamqp": AMQP,
    "azureservicebus": SERVICE_BUS,
}

SERVICE_BUS_CREDENTIALS = ("DefaultAzureCredential", "ManagedIdentityCredential")


class BrokerUrlError(ValueError):
    pass


def service_bus_url(connection_string: str) -> str:
    """kombu's URL for a Service Bus connection string with a shared access key."""
    parts: dict[str, str] = {}
    for item in connection_string.split(";"):
        name, sep, value = item.partition("=")
        if sep:
            parts[name.strip().lower()] = value.strip()
    endpoint = urlsplit(parts.get("endpoint", ""))
    policy, key = parts.get("sharedaccesskeyname"), parts.get("sharedaccesskey")
    if endpoint.scheme != "sb" or not endpoint.hostname or not policy or not key:
        raise BrokerUrlError(
            "SERVICE_BUS_CONNECTION_STRING is not "
            "'Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=<policy>;"
            "SharedAccessKey=<key>'; copy it from the namespace's Shared access policies, or use "
            "azureservicebus://DefaultAzureCredential@<namespace>.servicebus.windows.net"
        )
    # kombu splits the credential from the namespace at the last '@' and the policy from the key at
    # the first ':', so the base64 key ('+', '/', '=') goes in unquoted.
    return f"azureservicebus://{policy}:{key}@{endpoint.hostname}"


def kind(url: str) -> str:
    if url.strip().lower().startswith("endpoint="):
        raise BrokerUrlError(
            "CELERY_BROKER_URL holds a Service Bus connection string: Celery needs a URL there. "
            "Move the connection string to SERVICE_BUS_CONNECTION_STRING; unset CELERY_BROKER_URL"
        )
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    try:
        return _KINDS[scheme]
    except KeyError:
        raise BrokerUrlError(
            f"CELERY_BROKER_URL has an unsupported scheme {scheme!r}: use redis://, amqp:// "
            "(RabbitMQ) or azureservicebus://"
        ) from None


def transport_options(url: str, connect_timeout: float, publish_timeout: float) -> dict[str, Any]:
    """Options every process (publisher, worker, beat) uses for this broker."""
    broker = kind(url)
    if broker == AMQP:
        return {"confirm_publish": True}
    if broker == REDIS:
        # A command (LPUSH, BRPOP's 1 s poll) waits at most this long on a broker that hangs.
        return {
            "socket_connect_timeout": connect_timeout,
            "socket_timeout": max(publish_timeout, 2.0),
        }
    return {
        # The SDK's own retries would outlast a request; the caller retries (503 + Retry-After).
        "retry_total": 1,
        "retry_backoff_factor": 0.2,
        "retry_backoff_max": publish_timeout,
    }


def publisher_transport_options(url: str, publish_timeout: float) -> dict[str, Any]:
    """Extra options for the ingestion's publishing connections, which must never block a request
    for longer than the publish timeout (not for the worker's long-lived consuming connection)."""
    if kind(url) == AMQP:
        # Without these a broker that stops answering blocks a socket read forever, even while
        # the connection is being closed after a failed publish.
        return {"read_timeout": publish_timeout, "write_timeout": publish_timeout}
    return {}


def transport(url: str, redis_pipelined: bool = True) -> str | None:
    """kombu transport class replacing the URL scheme's own, or None to keep it. Service Bus: ours,
    which sends each message with our message id as its MessageId (duplicate detection). Redis
    (unless `redis_pipelined` is off): ours, which fetches, records and acknowledges a message in
    one round trip while messages wait (redis_transport.py)."""
    broker = kind(url)
    if broker == SERVICE_BUS:
        return "fabrikam.messaging.servicebus_transport:Transport"
    if broker == REDIS and redis_pipelined:
        return "fabrikam.messaging.redis_transport:Transport"
    return None


def declares_queues(url: str) -> bool:
    """Service Bus queues come from Bicep; declaring them would need the Manage right."""
    return kind(url) != SERVICE_BUS


def queue(name: str, url: str) -> Queue:
    """A durable queue bound to a direct exchange of the same name, as Celery creates them."""
    return Queue(
        name,
        Exchange(name, type="direct", no_declare=not declares_queues(url)),
        routing_key=name,
        no_declare=not declares_queues(url),
    )
