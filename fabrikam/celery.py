"""The Celery application shared by the ingestion publisher, the workflow worker and beat, and the
signals that give the worker and beat what every HTTP role has: logging in the project's format,
telemetry, health probes and /metrics on a small listener (PROBE_PORT).

Nothing this module imports imports it back: the readiness checks and gauges that need the app
(the broker's check below, the workflow's queue depths) are registered by the apps that own them.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, bootsteps, signals
from celery.app.amqp import AMQP

from fabrikam.messaging import redis_transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrikam.settings.production")


class _AMQP(AMQP):
    Connection = redis_transport.Connection  # honours CELERY_BROKER_TRANSPORT for redis+socket://


app = Celery("fabrikam", amqp=_AMQP)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_worker: dict[str, Any] = {}  # this worker's probe state and its Consumer, once running


@signals.celeryd_init.connect  # early: the worker warns (e.g. about running as root) before
@signals.setup_logging.connect  # Celery configures nothing itself when this has a receiver
def _setup_logging(**kwargs: Any) -> None:
    """The project's log format (fabrikam/observability/logs.py) in the worker and beat, warnings
    included."""
    import logging
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
    logging.captureWarnings(True)


def _start_probes(role: str, consuming: Any = None) -> Any:
    from django.conf import settings

    from fabrikam.apps.common.health import failing_stores
    from fabrikam.apps.common.probe_server import ProbeState, serve_probes

    if not settings.PROBE_PORT:
        return None

    def readiness() -> dict[str, str]:
        failing = failing_stores(role)
        if consuming is not None and not consuming():
            failing["consumer"] = "not consuming from the queue"
        return failing

    state = ProbeState(role, readiness)
    serve_probes(settings.HOST, settings.PROBE_PORT, state)
    return state


def broker_answers() -> None:
    """The broker's readiness check (registered by the common app): a connection within
    HEALTH_CHECK_TIMEOUT, made the way the publisher and the worker make theirs."""
    from django.conf import settings

    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=settings.HEALTH_CHECK_TIMEOUT)


def is_consuming(consumer: Any, queue: str) -> bool:
    """The worker's consumer is running, connected and subscribed to `queue` (False while it
    reconnects to a lost broker or shuts down)."""
    task_consumer = getattr(consumer, "task_consumer", None)
    connection = consumer.connection
    return (
        consumer.blueprint.state == bootsteps.RUN
        and connection is not None
        and connection.connected
        and task_consumer is not None
        and task_consumer.consuming_from(queue)
    )


def _consumed_queues(consumer: Any) -> list[str]:
    """The queues this worker was started to consume: its role's, from the role map, put on its
    command line by fabrikam/runtime/processes.py (`--queues`)."""
    return list(consumer.app.amqp.queues.consume_from)


def _consuming() -> bool:
    consumer = _worker.get("consumer")
    return consumer is not None and all(
        is_consuming(consumer, queue) for queue in _consumed_queues(consumer)
    )


def fail_probes(reason: str) -> None:
    """This worker must be restarted: its liveness and readiness fail from now on."""
    if _worker.get("probes") is not None:
        _worker["probes"].fail(reason)


@signals.worker_init.connect
def _worker_init(sender: Any = None, **kwargs: Any) -> None:
    from django.conf import settings

    # Listen from the start: the startup probe says "not started yet" until the consumer runs.
    _worker["probes"] = _start_probes(settings.FABRIKAM_ROLE, consuming=_consuming)
    if "solo" in str(getattr(sender, "pool_cls", "")):
        # No pool processes will fork (the scheduler): tasks run here, so trace here.
        from fabrikam.observability import telemetry

        telemetry.configure(settings.FABRIKAM_ROLE)


@signals.worker_ready.connect
def _worker_ready(sender: Any = None, **kwargs: Any) -> None:
    _worker["consumer"] = sender  # the worker's Consumer blueprint
    if _worker.get("probes") is not None:
        _worker["probes"].started.set()


@signals.worker_process_init.connect
def _worker_process_init(**kwargs: Any) -> None:
    from django.conf import settings

    from fabrikam.observability import telemetry

    telemetry.configure(settings.FABRIKAM_ROLE)


@signals.task_prerun.connect
@signals.task_postrun.connect
def _database_upkeep(sender: Any = None, **kwargs: Any) -> None:
    """Django's per-request rules for database connections, around each task (Celery's own
    fixup, which would close them all, is told not to: CELERY_DB_REUSE_MAX): a connection past
    DATABASE_CONN_MAX_AGE or broken by an error is closed, and a reused one is checked before its
    first query (CONN_HEALTH_CHECKS), so one the server dropped is replaced, not a failed task."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return  # run in the caller's thread (tests): its connections are the caller's
    from django.db import close_old_connections

    close_old_connections()


@signals.worker_process_shutdown.connect
@signals.worker_shutdown.connect  # a solo worker (tasks ran in this process); a no-op elsewhere
def _worker_process_shutdown(**kwargs: Any) -> None:
    from fabrikam.observability import telemetry

    telemetry.flush()


@signals.beat_init.connect
def _beat_init(sender: Any = None, **kwargs: Any) -> None:
    from fabrikam.observability import telemetry

    telemetry.configure("scheduler")
    if "probes" in _worker:
        return  # beat embedded in the scheduler's worker: the worker answers the probes
    state = _start_probes("scheduler")
    if state is not None:
        state.started.set()
