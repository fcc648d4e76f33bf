"""`manage.py serve --role X`: run one role (gunicorn, Celery worker or beat) in this process."""

from __future__ import annotations

import logging
import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fabrikam import roles
from fabrikam.observability import metrics
from fabrikam.runtime import embedded_redis, processes

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run one role: an HTTP service under gunicorn, the workflow worker or the scheduler."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--role",
            default=settings.FABRIKAM_ROLE,
            choices=roles.ROLE_NAMES,
            help="defaults to $FABRIKAM_ROLE",
        )
        parser.add_argument("--host", default=settings.HOST)
        parser.add_argument("--port", type=int, default=settings.PORT)

    def handle(self, *args: Any, role: str, host: str, port: int, **options: Any) -> None:
        if role == roles.ALL:
            call_command("dev", host=host, port=port)
            return
        env = {**os.environ, "FABRIKAM_ROLE": role}
        if roles.get(role).process is not roles.Process.HTTP:
            env["PROBE_PORT"] = str(port)  # the worker and beat answer /healthz/* there
        if settings.EMBEDDED_REDIS:
            embedded_redis.start(settings.DATA_DIR, daemonize=True)
            env["REDIS_URL"] = settings.REDIS_URL
        metrics_dir = metrics.prepare_multiprocess_dir(f"{role}-{port}")
        if metrics_dir is not None:
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        argv = processes.command_for(role, host, port)
        logger.info("serving role %s: %s …", role, " ".join(argv[2:5]))
        try:
            os.execvpe(argv[0], argv, env)
        except OSError as exc:
            raise CommandError(f"could not start {argv[0]}: {exc}") from exc
