"""Readiness checks: can this role reach the stores it owns? Downstream services are not checked
(the workflow's retries handle those), so one service being down never cascades into others."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import connections
from django_redis import get_redis_connection

from fabrikam import roles
from fabrikam.roles import Store


def _database(alias: str) -> Callable[[], None]:
    def check() -> None:
        connection = connections[alias]
        if connection.vendor == "mongodb":  # the packages store on a MongoDB API: no SQL cursor
            connection.ensure_connection()
            connection.connection.admin.command("ping")
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    return check


def _redis() -> None:
    get_redis_connection("default").ping()


def _broker() -> None:
    from fabrikam.celery import app

    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=settings.HEALTH_CHECK_TIMEOUT)


CHECKS: dict[Store, Callable[[], None]] = {
    Store.DATABASE: _database("default"),
    Store.PACKAGES_DATABASE: _database(settings.PACKAGES_DB_ALIAS),
    Store.REDIS: _redis,
    Store.BROKER: _broker,
}


def failing_stores(role: str) -> dict[str, str]:
    """Store name → error, for each of the role's stores that does not answer."""
    failures: dict[str, str] = {}
    for store in sorted(roles.stores(role)):
        try:
            CHECKS[store]()
        except Exception as exc:
            failures[store.value] = f"{type(exc).__name__}: {exc}"
    return failures
