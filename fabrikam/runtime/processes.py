"""Command lines for each kind of process a role runs, shared by `serve` (one role, exec'd) and
`dev` (every role as a supervised process tree). What a role runs and which queues its worker
consumes come from the role map (fabrikam/roles.py); how each kind of process is started is here."""

from __future__ import annotations

import sys

from django.conf import settings

from fabrikam import roles
from fabrikam.roles import Process


def gunicorn(host: str, port: int, workers: int) -> list[str]:
    """gunicorn's asyncio worker reads the connections; Django runs in GUNICORN_THREADS threads per
    worker, given only requests that have arrived whole (fabrikam.server.wsgi_bridge)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "fabrikam.asgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "fabrikam.server.gunicorn_worker.Worker",
        "--timeout",
        str(settings.GUNICORN_TIMEOUT),
        "--graceful-timeout",
        "20",
        "--forwarded-allow-ips",
        "*",
        "--config",
        "python:fabrikam.server.gunicorn_hooks",
        # Several gunicorns share a machine (dev, tests): no shared ~/.gunicorn control socket.
        "--no-control-socket",
    ]


def _quiet() -> list[str]:
    """No startup banner (printed, not logged) where every line must be JSON."""
    return ["--quiet"] if settings.LOG_FORMAT == "json" else []


def _celery(*args: str) -> list[str]:
    """`celery -A fabrikam [--quiet] <args>`: --quiet is an option of celery itself, so it goes
    before the subcommand (the worker rejects it)."""
    return [sys.executable, "-m", "celery", "-A", "fabrikam", *_quiet(), *args]


def celery_worker(role: str = "workflow", index: int = 0) -> list[str]:
    """A worker role: consumes its queues with the pool WORKFLOW_POOL/CONCURRENCY say. A solo
    worker has one slot (its watchdog counts one); `celery_workers` starts WORKFLOW_CONCURRENCY
    of them, told apart by their node names."""
    solo = settings.CELERY_WORKER_POOL == "solo"
    concurrency = 1 if solo else settings.CELERY_WORKER_CONCURRENCY
    return _celery(
        "worker",
        "--queues",
        ",".join(roles.queues(role)),
        "--concurrency",
        str(concurrency),
        "--prefetch-multiplier",
        str(settings.CELERY_WORKER_PREFETCH_MULTIPLIER),
        "--loglevel",
        settings.LOG_LEVEL,
        "--without-gossip",
        "--without-mingle",
        *(["--hostname", f"{role}-{index + 1}@%h"] if solo else []),
    )


def celery_workers(role: str = "workflow") -> dict[str, list[str]]:
    """The processes a supervisor starts for a worker role (`manage.py dev`): one, or with the solo
    pool WORKFLOW_CONCURRENCY side by side, each consuming from the broker itself."""
    if settings.CELERY_WORKER_POOL != "solo" or settings.CELERY_WORKER_CONCURRENCY <= 1:
        return {role: celery_worker(role)}
    return {
        f"{role}-{index + 1}": celery_worker(role, index)
        for index in range(settings.CELERY_WORKER_CONCURRENCY)
    }


def celery_beat(role: str = "scheduler") -> list[str]:
    """A beat role (`scheduler`): Celery beat embedded in a one-process worker that consumes the
    role's queues (the flight ticks beat sends), so they are run by the role that owns the drone
    database."""
    return _celery(
        "worker",
        "--beat",
        "--schedule",
        str(settings.DATA_DIR / "celerybeat-schedule"),
        "--queues",
        ",".join(roles.queues(role)),
        "--pool",
        "solo",
        "--loglevel",
        settings.LOG_LEVEL,
        "--without-gossip",
        "--without-mingle",
        "--hostname",
        f"{role}@%h",
    )


def command_for(role: str, host: str, port: int) -> list[str]:
    process = roles.get(role).process
    if process is Process.WORKER:
        return celery_worker(role)
    if process is Process.BEAT:
        return celery_beat(role)
    return gunicorn(host, port, settings.GUNICORN_WORKERS)
