"""The one place that says what each role serves.

A role is what one process (one Deployment in the Helm chart) does: the HTTP routes it mounts,
whether it runs a Celery worker or beat and the queues that worker consumes, and the stores its
readiness probe checks (and whose gauges its /metrics shows). Settings, URLs, health checks,
metrics, the `serve`/`dev` commands (fabrikam/runtime/processes.py) and the chart all read from
here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Store(StrEnum):
    """A backing service a role needs to be ready."""

    DATABASE = "database"  # the SQL default DB (drones, admin, businesses and their API clients)
    PACKAGES_DATABASE = "packages_database"  # MongoDB API, or the SQL default DB
    REDIS = "redis"  # deliveries, idempotency keys, saga state, throttle counters
    BROKER = "broker"  # the deliveryrequests queue


class Queue(StrEnum):
    """A Celery queue a worker role consumes. Its name is configurable, so the value is the setting
    that holds it (see `queues`)."""

    DELIVERY_REQUESTS = "DELIVERY_REQUESTS_QUEUE"  # delivery, cancel and reschedule messages
    FLIGHTS = "FLIGHT_QUEUE"  # the flight simulation's ticks, sent by beat


class Process(StrEnum):
    HTTP = "http"  # gunicorn
    WORKER = "worker"  # Celery worker consuming the delivery-request queue
    BEAT = "beat"  # Celery beat: flight simulation and other periodic work


@dataclass(frozen=True)
class Role:
    name: str
    process: Process
    url_modules: tuple[str, ...] = ()
    stores: frozenset[Store] = field(default_factory=frozenset)
    queues: tuple[Queue, ...] = ()  # what its Celery worker consumes
    public: bool = False  # reachable from the internet through the ingress


ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role(
            "ingestion",
            Process.HTTP,
            ("fabrikam.apps.ingestion.api.urls",),
            frozenset({Store.DATABASE, Store.REDIS, Store.BROKER}),
            public=True,
        ),
        Role(
            "delivery",
            Process.HTTP,
            ("fabrikam.apps.deliveries.api.urls", "fabrikam.apps.deliveries.pages.urls"),
            frozenset({Store.DATABASE, Store.REDIS}),
            public=True,
        ),
        Role(
            "package",
            Process.HTTP,
            ("fabrikam.apps.packages.api.urls",),
            frozenset({Store.DATABASE, Store.PACKAGES_DATABASE, Store.REDIS}),
        ),
        Role(
            "dronescheduler",
            Process.HTTP,
            ("fabrikam.apps.dronescheduler.api.urls",),
            frozenset({Store.DATABASE, Store.REDIS}),
        ),
        Role(
            "admin",
            Process.HTTP,
            ("fabrikam.web.admin_urls",),
            frozenset({Store.DATABASE, Store.PACKAGES_DATABASE, Store.REDIS}),
            public=True,
        ),
        Role(
            "workflow",
            Process.WORKER,
            (),
            frozenset({Store.REDIS, Store.BROKER}),
            queues=(Queue.DELIVERY_REQUESTS,),
        ),
        Role(
            "scheduler",
            Process.BEAT,
            (),
            frozenset({Store.DATABASE, Store.BROKER}),
            queues=(Queue.FLIGHTS,),
        ),
    )
}

HTTP_ROLES = tuple(name for name, role in ROLES.items() if role.process is Process.HTTP)

ALL = "all"
ROLE_NAMES = (*ROLES, ALL)


def url_modules(role: str) -> tuple[str, ...]:
    """URL modules mounted by `role`; `all` mounts every HTTP role's."""
    if role == ALL:
        return tuple(module for name in HTTP_ROLES for module in ROLES[name].url_modules)
    return get(role).url_modules


def serves(role: str, other: str) -> bool:
    """Whether a process of `role` also serves the HTTP role `other` (`all` serves every one)."""
    return other in (HTTP_ROLES if role == ALL else (role,))


def calls_in_process(role: str, other: str) -> bool:
    """The switch between the two shapes: in a process that serves `other` too (`make run`), the
    workflow calls its service functions in process (workflow/in_process.py); in separate
    deployments, over HTTP. WORKFLOW_IN_PROCESS_CALLS=false keeps HTTP everywhere."""
    from django.conf import settings

    return settings.WORKFLOW_IN_PROCESS_CALLS and serves(role, other)


def stores(role: str) -> frozenset[Store]:
    if role == ALL:
        return frozenset().union(*(r.stores for r in ROLES.values()))
    return get(role).stores


def queues(role: str) -> tuple[str, ...]:
    """Names of the queues `role`'s worker consumes, from settings; `all` consumes every role's."""
    from django.conf import settings

    members = (
        tuple(dict.fromkeys(q for r in ROLES.values() for q in r.queues))
        if role == ALL
        else get(role).queues
    )
    return tuple(getattr(settings, queue.value) for queue in members)


def get(role: str) -> Role:
    try:
        return ROLES[role]
    except KeyError:
        raise ValueError(f"unknown role {role!r}: choose one of {', '.join(ROLE_NAMES)}") from None
