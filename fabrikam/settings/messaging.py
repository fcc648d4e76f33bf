"""The broker and the delivery-request queues (issue 3): Redis (embedded default), RabbitMQ or
Azure Service Bus, and the Celery settings every process that publishes or consumes shares."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from fabrikam.messaging import broker
from fabrikam.settings import env
from fabrikam.settings.stores import REDIS_URL
from fabrikam.settings.workflow import WORKFLOW_RETRY_MAX_DELAY, WORKFLOW_TASK_TIME_LIMIT


def _broker_from_redis(url: str) -> str:
    parts = urlsplit(url)
    return f"redis+socket://{parts.path}" if parts.scheme == "unix" else url


CELERY_BROKER_URL = env.string("CELERY_BROKER_URL", _broker_from_redis(REDIS_URL))
SERVICE_BUS_CONNECTION_STRING = env.string("SERVICE_BUS_CONNECTION_STRING")
try:
    if SERVICE_BUS_CONNECTION_STRING and not env.string("CELERY_BROKER_URL"):
        CELERY_BROKER_URL = broker.service_bus_url(SERVICE_BUS_CONNECTION_STRING)
    BROKER_KIND = broker.kind(CELERY_BROKER_URL)
except broker.BrokerUrlError as exc:
    raise ImproperlyConfigured(str(exc)) from None

CELERY_TASK_DEFAULT_QUEUE = env.string("DELIVERY_REQUESTS_QUEUE", "deliveryrequests")
DELIVERY_REQUESTS_QUEUE = CELERY_TASK_DEFAULT_QUEUE
DELIVERY_REQUESTS_DEADLETTER_QUEUE = env.string(
    "DELIVERY_REQUESTS_DEADLETTER_QUEUE", f"{DELIVERY_REQUESTS_QUEUE}-deadletter"
)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# No remote control: nothing here uses it, workers of one host would clash on its queue (same
# node name), and Service Bus has no fanout exchange for it.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
CELERY_TIMEZONE = "UTC"

BROKER_CONNECT_TIMEOUT = env.number("BROKER_CONNECT_TIMEOUT", 2.0)
BROKER_PUBLISH_TIMEOUT = env.number("BROKER_PUBLISH_TIMEOUT", 3.0)
BROKER_PUBLISH_POOL_SIZE = env.integer("BROKER_PUBLISH_POOL_SIZE", 10)
# Redis broker: a message left unacknowledged this long is handed out again — how a crashed worker's
# messages come back. kombu cannot tell a dead worker from a busy one, so it must outlast the
# longest a live worker holds a message: a retry's countdown, then the attempt (workflow.py).
# Recovery after a crash takes this + BROKER_RESTORE_INTERVAL (RabbitMQ and Service Bus: see README
# "Recovery").
BROKER_VISIBILITY_TIMEOUT = env.integer(
    "BROKER_VISIBILITY_TIMEOUT", WORKFLOW_TASK_TIME_LIMIT + math.ceil(WORKFLOW_RETRY_MAX_DELAY)
)
BROKER_RESTORE_INTERVAL = env.integer("BROKER_RESTORE_INTERVAL", 10)  # how often to look for them
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_CONNECT_TIMEOUT
# Redis broker: fetch, record as unacknowledged and acknowledge in one round trip per message
# while messages wait (fabrikam/messaging/redis_transport.py); false: kombu's Redis transport.
BROKER_REDIS_PIPELINED = env.boolean("BROKER_REDIS_PIPELINED", True)
CELERY_BROKER_TRANSPORT = broker.transport(CELERY_BROKER_URL, BROKER_REDIS_PIPELINED)
CELERY_BROKER_TRANSPORT_OPTIONS = broker.transport_options(
    CELERY_BROKER_URL, BROKER_CONNECT_TIMEOUT, BROKER_PUBLISH_TIMEOUT
)
if BROKER_KIND == broker.REDIS:
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "visibility_timeout": BROKER_VISIBILITY_TIMEOUT,
        "unacked_restore_interval": BROKER_RESTORE_INTERVAL,
        "unacked_restore_throttle": 1,
    }
BROKER_PUBLISHER_TRANSPORT_OPTIONS = broker.publisher_transport_options(
    CELERY_BROKER_URL, BROKER_PUBLISH_TIMEOUT
)
CELERY_TASK_QUEUES = [
    broker.queue(name, CELERY_BROKER_URL)
    for name in (DELIVERY_REQUESTS_QUEUE, DELIVERY_REQUESTS_DEADLETTER_QUEUE)
]
