"""`manage.py dev`: the whole system on this machine — every HTTP role in one gunicorn, the workflow
worker, the flight scheduler and (unless REDIS_URL is set) the embedded Redis. Ctrl-C stops all."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from fabrikam import roles
from fabrikam.observability import metrics
from fabrikam.roles import Process
from fabrikam.runtime import embedded_redis, processes
from fabrikam.runtime.supervisor import Supervisor


class Command(BaseCommand):
    help = "Run every role together (gunicorn + Celery worker + beat + embedded Redis)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.HOST)
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument("--no-beat", action="store_true", help="do not simulate flights")

    def handle(self, *args: Any, host: str, port: int, no_beat: bool, **options: Any) -> None:
        supervisor = Supervisor(log=self.stderr.write)
        base = f"http://{host}:{port}"
        env = {
            **os.environ,
            # A developer's run: every process loads the settings this one did (from a checkout,
            # manage.py's local ones), not the production ones gunicorn and Celery default to.
            "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
            "FABRIKAM_ROLE": roles.ALL,
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "SERVICE_URL_PACKAGE": os.environ.get("SERVICE_URL_PACKAGE", base),
            "SERVICE_URL_DRONESCHEDULER": os.environ.get("SERVICE_URL_DRONESCHEDULER", base),
            "SERVICE_URL_DELIVERY": os.environ.get("SERVICE_URL_DELIVERY", base),
            "PYTHONUNBUFFERED": "1",
        }
        metrics_dir = metrics.prepare_multiprocess_dir(f"{roles.ALL}-{port}")
        if metrics_dir is not None:  # gunicorn's /metrics then also shows the worker's counts
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        if settings.EMBEDDED_REDIS:
            self.stdout.write(f"starting the embedded Redis ({settings.REDIS_URL}) …")
            child = embedded_redis.start(settings.DATA_DIR)
            if child is not None:
                supervisor.adopt("redis", child)
        self.stdout.write("starting the HTTP roles (gunicorn), the workflow worker and beat …")
        supervisor.start(
            "http",
            processes.gunicorn(host, port, settings.GUNICORN_WORKERS),
            env,
        )
        # Every role that is not HTTP, as the role map says: the workflow worker, and beat.
        for name, role in roles.ROLES.items():
            if role.process is Process.HTTP or (no_beat and role.process is Process.BEAT):
                continue
            # A worker that exits (the workflow worker's stall watchdog) is started again.
            if role.process is Process.WORKER:
                for child, argv in processes.celery_workers(name).items():
                    supervisor.start(child, argv, env, restart=True)
                continue
            supervisor.start(name, processes.command_for(name, host, port), env)
        self.stdout.write(self.style.SUCCESS(self.banner(base)))
        self.stdout.flush()

        def report(name: str, code: int) -> None:
            self.stderr.write(f"{name} exited with code {code}; stopping the rest.")

        code = supervisor.wait(report)
        self.stdout.write("stopped.")
        if code:
            raise SystemExit(code)

    def banner(self, base: str) -> str:
        password_file = settings.DATA_DIR / "demo-admin-password"
        login = (
            f"  (login: admin / {password_file.read_text().strip()})"
            if (settings.DEBUG and password_file.exists())
            else ""
        )
        return (
            "\nFabrikam Drone Delivery is running:\n"
            f"  API docs   {base}/api/docs/  (Authorize with a token, below)\n"
            "  token      .venv/bin/python manage.py issue_token --owner contoso\n"
            f"  admin      {base}/admin/{login}\n"
            f"  tracking   {base}/track/<deliveryId>  (POST /api/deliveryrequests returns the id)\n"
            f"  health     {base}/healthz/ready\n"
            "Press Ctrl-C to stop everything.\n"
        )
