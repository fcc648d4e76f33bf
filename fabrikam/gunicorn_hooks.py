"""gunicorn server hooks and settings (loaded with `--config python:fabrikam.gunicorn_hooks`).

gunicorn's own messages use the project's log format; there is no gunicorn access log: each
request is logged by fabrikam.apps.common.middleware.RequestLogMiddleware with its route, status,
latency and trace id.
"""

from __future__ import annotations

import logging
import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrikam.settings")

from django.conf import settings

logconfig_dict = settings.LOGGING
logging.captureWarnings(True)  # warnings too in the log format, from the master on


def post_fork(server: Any, worker: Any) -> None:
    """Per worker: telemetry's export threads must start after the fork, not in the master."""
    from fabrikam import telemetry

    telemetry.configure(settings.FABRIKAM_ROLE)


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone: its live gauges (if any) must not be summed in any more."""
    if settings.PROMETHEUS_MULTIPROC_DIR:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, settings.PROMETHEUS_MULTIPROC_DIR)
