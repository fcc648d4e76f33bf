from django.apps import AppConfig
from django.urls import register_converter


class CommonConfig(AppConfig):
    """Cross-cutting pieces every role shares: health probes and the process commands."""

    name = "fabrikam.apps.common"
    label = "common"

    def ready(self) -> None:
        from fabrikam.apps.common import health
        from fabrikam.apps.common.converters import IdConverter
        from fabrikam.celery import app, broker_answers
        from fabrikam.roles import Store

        register_converter(IdConverter, "id")
        # Register every app's Celery tasks in every process, not only in the worker: the tracing
        # of a publish (ingestion's send_task by name) looks the task up, and leaves its span
        # open and current for the rest of the request when the name is unknown.
        app.autodiscover_tasks(force=True)
        # The stores several contexts share; a context registers the checks of its own.
        health.register(Store.DATABASE, health.database("default"))
        health.register(Store.REDIS, health.redis)
        health.register(Store.BROKER, broker_answers)
