"""The Celery application shared by the ingestion publisher, the workflow worker and beat, and the
signals that give the worker and beat what every HTTP role has: logging in the project's format,
telemetry, health probes and /metrics on a small listener (PROBE_PORT)."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, bootsteps, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrikam.settings")

app = Celery("fabrikam")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_worker: dict[str, Any] = {}  # this worker's probe state and its Consumer, once running


@signals.celeryd_init.connect  # early: the worker warns (e.g. about running as root) before
@signals.setup_logging.connect  # Celery configures nothing itself when this has a receiver
def _setup_logging(**kwargs: Any) -> None:
    """The project's log format (fabrikam/logs.py) in the worker and beat, warnings included."""
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


def _consumed_queue() -> str:
    """The queue this worker exists to consume: flight ticks for the scheduler (a worker with
    beat embedded), delivery requests otherwise."""
    from django.conf import settings

    if settings.FABRIKAM_ROLE == "scheduler":
        return settings.FLIGHT_QUEUE
    return settings.CELERY_TASK_DEFAULT_QUEUE


def _consuming() -> bool:
    consumer = _worker.get("consumer")
    return consumer is not None and is_consuming(consumer, _consumed_queue())


@signals.worker_init.connect
def _worker_init(sender: Any = None, **kwargs: Any) -> None:
    from django.conf import settings

    # Listen from the start: the startup probe says "not started yet" until the consumer runs.
    _worker["probes"] = _start_probes(settings.FABRIKAM_ROLE, consuming=_consuming)
    if "solo" in str(getattr(sender, "pool_cls", "")):
        # No pool processes will fork (the scheduler): tasks run here, so trace here.
        from fabrikam import telemetry

        telemetry.configure(settings.FABRIKAM_ROLE)


@signals.worker_ready.connect
def _worker_ready(sender: Any = None, **kwargs: Any) -> None:
    _worker["consumer"] = sender  # the worker's Consumer blueprint
    if _worker.get("probes") is not None:
        _worker["probes"].started.set()


@signals.worker_process_init.connect
def _worker_process_init(**kwargs: Any) -> None:
    from django.conf import settings

    from fabrikam import telemetry

    telemetry.configure(settings.FABRIKAM_ROLE)


@signals.worker_process_shutdown.connect
def _worker_process_shutdown(**kwargs: Any) -> None:
    from fabrikam import telemetry

    telemetry.flush()


@signals.beat_init.connect
def _beat_init(sender: Any = None, **kwargs: Any) -> None:
    from fabrikam import telemetry

    telemetry.configure("scheduler")
    if "probes" in _worker:
        return  # beat embedded in the scheduler's worker: the worker answers the probes
    state = _start_probes("scheduler")
    if state is not None:
        state.started.set()


@signals.task_postrun.connect
def _count_saga_outcome(
    task: Any = None, args: Any = None, retval: Any = None, state: str = "", **kwargs: Any
) -> None:
    from fabrikam import metrics
    from fabrikam.contract.messages import TASK_NAME

    if task is None or task.name != TASK_NAME:
        return
    message = args[0] if args else None
    operation = message.get("operation") if isinstance(message, dict) else None
    outcome = {"SUCCESS": retval, "RETRY": "retried"}.get(state, "failed")
    metrics.record_saga_outcome(operation, outcome)
