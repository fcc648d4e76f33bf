"""Readiness checks: can this role reach the stores it owns? Downstream services are not checked
(the workflow's retries handle those), so one service being down never cascades into others.

The checks run side by side and the answer comes within HEALTH_CHECK_TIMEOUT even when a store
hangs (a black-holed connection can block for minutes): the store is then reported as timed out.
A check still hanging from an earlier probe is waited on again rather than started twice, so a
dead store holds at most one thread per check.

Each store's check is registered by the code that owns the store, when its app is ready: the
common app registers the shared ones (the default database, Redis, the broker), the packages app
its own database. A store of the role with no check registered is reported, never passed over.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.db import connections
from django_redis import get_redis_connection

from fabrikam import roles
from fabrikam.roles import Store


def database(alias: str) -> Callable[[], None]:
    """A check that the database `alias` answers."""

    def check() -> None:
        connection = connections[alias]  # this checker thread's own connection
        try:
            if connection.vendor == "mongodb":  # the packages store on a MongoDB API: no cursor
                connection.ensure_connection()
                connection.connection.admin.command("ping")
                return
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        finally:
            connection.close()  # a fresh one each time: no idle session held by a probe thread

    return check


def redis() -> None:
    get_redis_connection("default").ping()


CHECKS: dict[Store, Callable[[], None]] = {}


def register(store: Store, check: Callable[[], None]) -> None:
    """`check` raises when `store` does not answer; called from the owning app's ready()."""
    CHECKS[store] = check


def _unregistered(store: Store) -> Callable[[], None]:
    def check() -> None:
        raise LookupError(f"no readiness check is registered for {store.value}")

    return check


_executor = ThreadPoolExecutor(max_workers=len(Store), thread_name_prefix="readiness")
_running: dict[Store, Future[None]] = {}
_lock = threading.Lock()


def _start(store: Store) -> Future[None]:
    with _lock:
        running = _running.get(store)
        if running is None or running.done():
            check = CHECKS.get(store) or _unregistered(store)
            running = _running[store] = _executor.submit(check)
        return running


def failing_stores(role: str) -> dict[str, str]:
    """Store name → error, for each of the role's stores that does not answer in time."""
    futures = {store: _start(store) for store in sorted(roles.stores(role))}
    wait(futures.values(), timeout=settings.HEALTH_CHECK_TIMEOUT)
    failures: dict[str, str] = {}
    for store, future in futures.items():
        if not future.done():
            failures[store.value] = f"no answer within {settings.HEALTH_CHECK_TIMEOUT:g}s"
        elif (error := future.exception()) is not None:
            failures[store.value] = f"{type(error).__name__}: {error}"
    return failures
