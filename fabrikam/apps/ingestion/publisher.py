"""Publishes queue messages as Celery tasks and returns only once the broker has them.

A publish is bounded in time: connecting (`BROKER_CONNECT_TIMEOUT`), writing and waiting for the
broker's answer (`BROKER_PUBLISH_TIMEOUT`; RabbitMQ's publisher confirm, Redis's LPUSH reply) and
waiting for a free connection. Past any of them, or when the broker refuses, `BrokerUnavailable`
(503 with Retry-After) is raised and the connection is dropped without the goodbye a hung broker
would never answer. Nothing is retried here: the client retries, with its Idempotency-Key.

The connections are this module's own small pool per process (not Celery's shared pool) so that
their socket timeouts bound a request without touching the workflow worker's consuming connection.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import ssl
import threading
import weakref
from typing import Any

from celery import signals
from celery.utils.nodenames import anon_nodename
from django.conf import settings
from kombu import Connection, Producer, Queue
from kombu.connection import ConnectionPool
from kombu.entity import PERSISTENT_DELIVERY_MODE
from kombu.exceptions import KombuError, LimitExceeded

from fabrikam.apps.ingestion.exceptions import BrokerUnavailable
from fabrikam.celery import app
from fabrikam.contract.messages import TASK_NAME
from fabrikam.messaging import broker

logger = logging.getLogger(__name__)


_pools: dict[tuple[int, str], ConnectionPool] = {}
_pools_lock = threading.Lock()


def _pool() -> ConnectionPool:
    # Keyed by process: a pool made before gunicorn forks must not be shared by its workers.
    key = (os.getpid(), settings.CELERY_BROKER_URL)
    with _pools_lock:
        if key not in _pools:
            connection = app.connection_for_write(
                url=settings.CELERY_BROKER_URL,
                connect_timeout=settings.BROKER_CONNECT_TIMEOUT,
                transport_options=settings.BROKER_PUBLISHER_TRANSPORT_OPTIONS,
            )
            _pools[key] = connection.Pool(limit=settings.BROKER_PUBLISH_POOL_SIZE)
        return _pools[key]


def queues() -> list[Queue]:
    """The delivery-request queue and its dead-letter queue, declared together on first use."""
    return list(
        _queues(
            settings.DELIVERY_REQUESTS_QUEUE,
            settings.DELIVERY_REQUESTS_DEADLETTER_QUEUE,
            settings.CELERY_BROKER_URL,
        )
    )


@functools.lru_cache(maxsize=8)
def _queues(name: str, deadletter: str, url: str) -> tuple[Queue, Queue]:
    # Built once: unbound entities, which kombu copies when it binds one to a channel.
    return broker.queue(name, url), broker.queue(deadletter, url)


def _failures(connection: Connection) -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (
        KombuError,
        OSError,  # includes TimeoutError and socket errors
        *connection.connection_errors,
        *connection.channel_errors,
    )
    if settings.BROKER_KIND == broker.AMQP:
        from amqp.exceptions import MessageNacked

        errors += (MessageNacked,)
    elif settings.BROKER_KIND == broker.SERVICE_BUS:
        from azure.core.exceptions import AzureError

        errors += (AzureError,)
    return errors


def _drop_if_dead(connection: Connection) -> None:
    """An idle AMQP connection learns of a broker restart only when it next reads: look now,
    without blocking, so a connection the broker has closed is replaced instead of failing this
    publish. Redis clients reconnect by themselves."""
    if settings.BROKER_KIND != broker.AMQP or not connection.connected:
        return
    sock = connection.connection.transport.sock
    try:
        if isinstance(sock, ssl.SSLSocket):  # no MSG_PEEK on TLS: let the client read a frame
            connection.drain_events(timeout=0.0001)
            return
        pending = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        if pending:  # a heartbeat, or the broker saying it closes the connection
            connection.drain_events(timeout=0.0001)
            return
    except (BlockingIOError, TimeoutError):
        return  # nothing to read: alive
    except (*connection.connection_errors, OSError) as exc:
        logger.info("replacing a broker connection the broker closed: %s", exc)
    else:
        logger.info("replacing a broker connection the broker closed")
    connection.collect()


def task_message(
    message: dict[str, Any], message_id: str, trace_headers: dict[str, str]
) -> tuple[tuple[Any, ...], dict[str, Any], dict[str, Any]]:
    """Celery's protocol-2 message for task TASK_NAME with `message` as its one argument: the
    body, headers and properties `app.send_task` gives it (tests hold the two equal), built
    without send_task's routing, option merging and result bookkeeping, which cost about a third
    of a POST's CPU."""
    headers = {
        "lang": "py",
        "task": TASK_NAME,
        "id": message_id,
        "shadow": None,
        "eta": None,
        "expires": None,
        "group": None,
        "group_index": None,
        "retries": 0,
        "timelimit": [None, None],
        "root_id": message_id,
        "parent_id": None,
        "argsrepr": f"[{message_id}]",  # worker logs name the message, not the owner's data
        "kwargsrepr": "{}",
        "origin": anon_nodename(),
        "ignore_result": None,
        "replaced_task_nesting": 0,
        "stamped_headers": None,
        "stamps": {},
        **trace_headers,
    }
    properties = {
        "correlation_id": message_id,
        "reply_to": app.thread_oid,
        "message_id": message_id,  # the AMQP property, besides Celery's `id` header
        "argsrepr": headers["argsrepr"],  # send_task passes its extra options on as properties
    }
    body = ([message], {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None})
    return body, headers, properties


# The queue names declared on each broker channel: a reconnect opens a new channel, which
# declares them again (as kombu's own per-connection cache would have it).
_declared_on: weakref.WeakKeyDictionary[Any, list[str]] = weakref.WeakKeyDictionary()


def _producer(channel: Any) -> Producer:
    """The channel's producer, built once with it (a pooled connection serves one publish at a
    time); kept on the channel, so a reconnect's new channel gets a new one."""
    producer = getattr(channel, "_fabrikam_producer", None)
    if producer is None:
        producer = channel._fabrikam_producer = Producer(channel, auto_declare=False)
    return producer


@functools.cache
def _retry_policy() -> dict[str, Any]:
    return dict(app.conf.task_publish_retry_policy)


def _to_declare(channel: Any, targets: list[Queue]) -> list[Queue]:
    """The queues to declare with this publish: none where the broker does not let us (Service
    Bus) or this channel already did."""
    if not broker.declares_queues(settings.CELERY_BROKER_URL):
        return []
    return [] if _declared_on.get(channel) == [q.name for q in targets] else targets


def unavailable() -> BrokerUnavailable:
    return BrokerUnavailable(
        "The message broker did not accept the request; nothing was queued. Retry later.",
        retry_after=settings.BROKER_RETRY_AFTER_SECONDS,
    )


def declare_for_redis_publisher() -> dict[str, Any]:
    """For a publisher that writes its messages to the Redis broker itself (the ingestion's fast
    path): declare the queues as `publish` does on a pooled connection, and return that channel's
    connection parameters (kombu's reading of the broker URL). Raises BrokerUnavailable."""
    connection = _pool().acquire(block=True, timeout=settings.BROKER_PUBLISH_TIMEOUT)
    try:
        channel = connection.default_channel
        targets = queues()
        for queue in _to_declare(channel, targets):
            queue(channel).declare()
        _declared_on[channel] = [q.name for q in targets]
        return dict(channel._connparams())
    except _failures(connection) as exc:
        connection.collect()
        raise unavailable() from exc
    finally:
        connection.release()


def publish(message: dict[str, Any], message_id: str, headers: dict[str, str]) -> None:
    """Put `message` on the delivery-request queue as task TASK_NAME; return once it is there."""
    try:
        connection = _pool().acquire(block=True, timeout=settings.BROKER_PUBLISH_TIMEOUT)
    except LimitExceeded as exc:
        logger.warning("publishing %s: no free broker connection: %s", message_id, exc)
        raise unavailable() from exc
    failures = _failures(connection)
    published = False
    try:
        _drop_if_dead(connection)
        targets = queues()
        channel = connection.default_channel
        declare = _to_declare(channel, targets)
        body, task_headers, properties = task_message(message, message_id, headers)
        routing = {"exchange": "", "routing_key": targets[0].name}  # as send_task routes it
        retry_policy = _retry_policy()
        # The signals send_task sends: OpenTelemetry's producer span, and traceparent with it.
        signals.before_task_publish.send(
            sender=TASK_NAME,
            body=body,
            declare=declare,
            headers=task_headers,
            properties=properties,
            retry_policy=retry_policy,
            **routing,
        )
        _producer(channel).publish(
            body,
            serializer="json",
            compression=None,
            retry=False,
            retry_policy=retry_policy,
            delivery_mode=PERSISTENT_DELIVERY_MODE,
            declare=declare,
            headers=task_headers,
            timeout=settings.BROKER_PUBLISH_TIMEOUT,
            confirm_timeout=settings.BROKER_PUBLISH_TIMEOUT,
            **routing,
            **properties,
        )
        if declare:
            _declared_on[channel] = [q.name for q in targets]
        signals.after_task_publish.send(
            sender=TASK_NAME, body=body, headers=task_headers, **routing
        )
        published = True
    except failures as exc:
        logger.warning("publishing %s failed: %s: %s", message_id, type(exc).__name__, exc)
        raise unavailable() from exc
    finally:
        if not published:
            connection.collect()  # reconnect next time; no close handshake with a broken broker
        connection.release()
