from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django_redis import get_redis_connection
from redis.connection import AbstractConnection
from rest_framework.test import APIClient

from fabrikam.interservice import http
from tests.ingestion import broker
from tests.support import auth


@pytest.fixture(scope="session")
def live_server(live_server: Any) -> Iterator[Any]:
    """pytest-django's live server, with what the saga's clients keep open to it closed at the end
    and the threads serving those connections awaited: each holds a database session, which the
    test database's teardown (PostgreSQL) would otherwise find still in use."""
    server = live_server.thread.httpd
    serving: list[threading.Thread] = []
    serve = server.process_request_thread

    def tracked(request: Any, client_address: Any) -> None:
        serving.append(threading.current_thread())
        serve(request, client_address)

    server.process_request_thread = tracked  # each connection's thread runs it (ThreadingMixIn)
    yield live_server
    http.close_all()
    for thread in serving:
        thread.join(timeout=10)  # its connection closed, it closes its database session and ends


@pytest.fixture
def redis_store() -> Iterator[Any]:
    """The Redis of the deliveries/ingestion/workflow stores, emptied around the test."""
    connection = get_redis_connection("default")
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def redis_round_trips(monkeypatch) -> list[bytes]:
    """What this process sends to Redis, one entry per round trip (a pipeline is one)."""
    sent: list[bytes] = []
    send = AbstractConnection.send_packed_command

    def counted(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        sent.append(command)
        send(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    return sent


@pytest.fixture
def queue(settings, redis_store) -> Iterator[str]:
    """A delivery-request queue (and dead-letter queue) of this test's own on the configured
    broker (the embedded Redis, or RabbitMQ in CI), deleted afterwards."""
    name = broker.unique_queue()
    settings.DELIVERY_REQUESTS_QUEUE = name
    settings.DELIVERY_REQUESTS_DEADLETTER_QUEUE = f"{name}-deadletter"
    yield name
    broker.delete(settings.CELERY_BROKER_URL, name, f"{name}-deadletter")


@pytest.fixture
def api() -> APIClient:
    """A client with a token of every scope (internal, admin, read, write): the services' and the
    back office's view, for tests of what an endpoint does. tests/accounts test who may call it."""
    return auth.api_client()


@pytest.fixture
def anonymous_api() -> APIClient:
    return APIClient()


# --- the fault-injection suite and the soak (tests/chaos): only when asked for ---
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chaos", "fault injection and soak (tests/chaos/README.md)")
    group.addoption(
        "--chaos",
        choices=("off", "short", "full"),
        default="off",
        help="run the `chaos` scenarios: short (CI, minutes) or full (make test-chaos)",
    )
    group.addoption(
        "--soak-seconds",
        type=float,
        default=0,
        help="run the `soak` test for this long (make soak: 600; CI: 60)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`make test` leaves the chaos scenarios and the soak out (deselected, not skipped): they
    run in a CI step of their own (`make test-chaos`, `make soak`); CI's short variant leaves out
    the scenarios marked `chaos_full` too."""
    left_out = set()
    if config.getoption("--chaos") == "off":
        left_out.add("chaos")
    if config.getoption("--chaos") != "full":
        left_out.add("chaos_full")
    if not config.getoption("--soak-seconds"):
        left_out.add("soak")
    drop = [i for i in items if any(i.get_closest_marker(m) for m in left_out)]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = [i for i in items if i not in drop]
