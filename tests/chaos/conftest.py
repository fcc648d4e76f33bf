"""The chaos suite's systems: one per broker, shared by the scenarios of a module (each scenario's
ledger reads only the requests it sent). `--chaos short` (CI) or `--chaos full` selects them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.chaos.servers import RabbitNode, RedisServer, rabbitmq_node, redis_server
from tests.chaos.system import ChaosSystem, start_system, stop_system
from tests.support.live import database_for_processes, manage


@dataclass(frozen=True)
class Mode:
    """How long and how hard a scenario runs. `short` also shortens the workflow's time limit
    and retry delays, so the recovery bounds derived from them (and the waits for them) fit CI."""

    name: str
    rate: float  # delivery requests per second
    seconds: float  # of load per scenario
    drones: int  # enough that no scenario waits for a free drone
    env: dict[str, str] = field(default_factory=dict)


MODES = {
    "short": Mode(
        "short",
        rate=3,
        seconds=15,
        drones=800,
        env={"WORKFLOW_TASK_TIME_LIMIT": "45", "WORKFLOW_RETRY_MAX_DELAY": "10"},
    ),
    "full": Mode("full", rate=5, seconds=60, drones=4000),
}


@dataclass
class Stores:
    name: str  # the broker: redis or rabbitmq
    system: ChaosSystem
    store: RedisServer  # deliveries, saga state, idempotency keys
    broker: RedisServer | RabbitNode
    mode: Mode
    settings: dict[str, float]  # the recovery settings the processes derived


@pytest.fixture(scope="session")
def mode(request: pytest.FixtureRequest) -> Mode:
    return MODES[request.config.getoption("--chaos")]


def derived_settings(env: dict[str, str]) -> dict[str, float]:
    names = (
        "BROKER_VISIBILITY_TIMEOUT",
        "BROKER_RESTORE_INTERVAL",
        "WORKFLOW_LOCK_SECONDS",
        "WORKFLOW_RETRY_BASE_DELAY",
        "WORKFLOW_TASK_TIME_LIMIT",
    )
    code = "from django.conf import settings as s; print(" + ",".join(f"s.{n}" for n in names) + ")"
    values = manage(["shell", "-v", "0", "-c", code], env).split()[-len(names) :]
    return {name.lower(): float(value) for name, value in zip(names, values, strict=True)}


@contextlib.contextmanager
def chaos_system(
    name: str, path: Path, mode: Mode, broker: RedisServer | RabbitNode, store: RedisServer
) -> Iterator[Stores]:
    with database_for_processes(path) as database_url:
        system = start_system(
            path, database_url, store.url, broker.url, mode.drones, dict(mode.env)
        )
        try:
            yield Stores(name, system, store, broker, mode, derived_settings(system.live.env))
        finally:
            stop_system(system)


@pytest.fixture(scope="module")
def redis_broker(tmp_path_factory: pytest.TempPathFactory, mode: Mode) -> Iterator[Stores]:
    """Redis as the broker (the embedded default's shape), on a server apart from the store, so
    stopping the broker leaves the store up."""
    path = tmp_path_factory.mktemp("chaos-redis")
    with (
        redis_server(path, "broker") as broker,
        redis_server(path, "store") as store,
        chaos_system("redis", path, mode, broker, store) as stores,
    ):
        yield stores


@pytest.fixture(scope="module")
def rabbitmq_broker(tmp_path_factory: pytest.TempPathFactory, mode: Mode) -> Iterator[Stores]:
    """RabbitMQ as the broker, as in CI, on a node of the suite's own."""
    path = tmp_path_factory.mktemp("chaos-rabbitmq")
    with (
        rabbitmq_node(path) as broker,
        redis_server(path, "store") as store,
        chaos_system("rabbitmq", path, mode, broker, store) as stores,
    ):
        yield stores


@pytest.fixture
def stores(request: pytest.FixtureRequest) -> Stores:
    """The system of the broker the test is parametrized with."""
    return request.getfixturevalue(f"{request.param}_broker")


def on_postgres(stores: Stores) -> bool:
    return stores.system.database_url.startswith(("postgres://", "postgresql://"))
