"""The Celery application shared by the ingestion publisher, the workflow worker and beat."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrikam.settings")

app = Celery("fabrikam")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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


@signals.worker_ready.connect
def _worker_ready(sender: Any = None, **kwargs: Any) -> None:
    consumer = sender  # the worker's Consumer blueprint
    state = _start_probes(
        "workflow",
        consuming=lambda: (
            bool(consumer.connection and consumer.connection.connected)
            and consumer.blueprint.state == 1
        ),  # RUN
    )
    if state is not None:
        state.started.set()


@signals.beat_init.connect
def _beat_init(sender: Any = None, **kwargs: Any) -> None:
    state = _start_probes("scheduler")
    if state is not None:
        state.started.set()
