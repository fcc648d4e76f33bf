"""gunicorn server hooks and settings (loaded with
`--config python:fabrikam.server.gunicorn_hooks`).

gunicorn's own messages use the project's log format; there is no gunicorn access log: each
request is logged by fabrikam.apps.common.middleware.RequestLogMiddleware with its route, status,
latency and trace id (so gunicorn is not even asked to build one: `Logger`).
"""

from __future__ import annotations

import logging
import os
import resource
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrikam.settings.production")

from django.conf import settings
from gunicorn import glogging

logconfig_dict = settings.LOGGING
logger_class = "fabrikam.server.gunicorn_hooks.Logger"
logging.captureWarnings(True)  # warnings too in the log format, from the master on


class Logger(glogging.Logger):
    """gunicorn's logger with its access log off. Given a logging config, gunicorn turns its access
    log on and, for every request, builds the request's environ, the log atoms and a LogRecord
    (≈ 0.1 ms of the event loop's CPU per request), which `gunicorn.access`'s handler then
    discards."""

    @property
    def access_log_enabled(self) -> bool:
        return False


# Per worker: a socket for each live stream, plus the API's connections, slow clients waiting for
# their headers, and the stores' connections.
FILES_BESIDES_STREAMS = 1024


def on_starting(server: Any) -> None:
    """Raise the open-files limit (inherited by the workers) to what TRACKING_MAX_STREAMS needs."""
    wanted = settings.TRACKING_MAX_STREAMS + FILES_BESIDES_STREAMS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return
    if hard != resource.RLIM_INFINITY and hard < wanted:
        server.log.warning(
            "open-files limit %s (hard %s) is below the %s that TRACKING_MAX_STREAMS=%s needs: "
            "raise it (ulimit -n, or the container runtime's nofile) or lower "
            "TRACKING_MAX_STREAMS",
            soft,
            hard,
            wanted,
            settings.TRACKING_MAX_STREAMS,
        )
        wanted = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def post_fork(server: Any, worker: Any) -> None:
    """Per worker: telemetry's export threads must start after the fork, not in the master."""
    from fabrikam.observability import telemetry

    telemetry.configure(settings.FABRIKAM_ROLE)


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone: its live gauges (if any) must not be summed in any more."""
    if settings.PROMETHEUS_MULTIPROC_DIR:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, settings.PROMETHEUS_MULTIPROC_DIR)
