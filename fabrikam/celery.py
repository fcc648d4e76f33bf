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


_probes: dict[str, Any] = {}


@signals.worker_ready.connect
def _worker_ready(sender: Any = None, **kwargs: Any) -> None:
    """The workflow worker, and the scheduler (a worker with beat embedded), answer probes once
    they consume; readiness then follows the consumer's connection."""
    from django.conf import settings

    if _probes:
        return
    consumer = sender
    state = _start_probes(
        settings.FABRIKAM_ROLE,
        consuming=lambda: (
            bool(consumer.connection and consumer.connection.connected)
            and consumer.blueprint.state == 1
        ),  # celery.bootsteps.RUN
    )
    if state is not None:
        _probes["state"] = state
        state.started.set()
