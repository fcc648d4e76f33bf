"""Fault injection under a steady load of delivery requests, cancels and reschedules: each
scenario breaks one real part while the load runs, then the ledger reads the stores and demands
that every accepted request ended as exactly one outcome. See tests/chaos/README.md."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from tests.chaos.conftest import Stores, on_postgres
from tests.chaos.ledger import Ledger
from tests.chaos.load import Load
from tests.chaos.servers import RabbitNode, client
from tests.chaos.system import HTTP_ROLES, wait_consuming
from tests.support.faulty_proxy import Fault
from tests.support.live import wait_until
from tests.support.tools import missing

# CI's short variant runs on RabbitMQ, CI's broker; the Redis broker's scenarios (and their
# recovery bound of minutes) run in the full variant.
BROKERS = [
    pytest.param("redis", marks=[pytest.mark.redis, pytest.mark.chaos_full]),
    pytest.param("rabbitmq", marks=pytest.mark.rabbitmq),
]
pytestmark = [pytest.mark.chaos, pytest.mark.e2e, pytest.mark.timeout(1800)]


def run_scenario(
    name: str,
    stores: Stores,
    inject: Callable[[Load], dict[str, Any]],
    seconds: float = 0,
) -> dict[str, Any]:
    """Load the system for `seconds` (default: the mode's), let `inject` break something
    meanwhile (it returns what it did), then settle and close the ledger; fail on anything lost,
    duplicated or inconsistent."""
    system, mode = stores.system, stores.mode
    for role in HTTP_ROLES:
        system.live.wait_ready(system.urls[role])
    wait_consuming(system)
    load = Load(system.ingestion, mode.rate, seconds or mode.seconds)
    ledger = Ledger(
        name,
        load,
        client(stores.store),
        system.database_url,
        system.broker_url,
        system.deadletter_queue,
    )
    recovery = recovery_bound(stores)
    ledger.facts.update(
        broker=stores.name,
        mode=mode.name,
        recovery_bound_s=recovery,
        settle_s=recovery + 120,
    )
    restarts_before = len(system.restarts)
    ledger.watch()
    load.start()
    try:
        ledger.facts.update(inject(load))
    finally:
        load.done.set()
        load.wait()
    ledger.settle(recovery + 120)
    # workers that exited on their own and were restarted (the stall watchdog)
    ledger.facts.update(worker_restarts=system.restarts[restarts_before:])
    result = ledger.close()
    assert result["requests"] > 0, f"nothing was accepted: {load.answers}\n{system.live.logs()}"
    assert (result["lost"], result["duplicated"], result["violations"]) == (0, 0, []), (
        f"the ledger found problems (tests/chaos/results/{name}.json); process logs in "
        f"{system.live.log_dir}"
    )
    assert load.failures == [], load.failures[:10]
    return result


def recovery_bound(stores: Stores) -> float:
    """How long a crashed worker's message may wait before another worker runs it: the
    visibility timeout + the restore interval on Redis; on RabbitMQ it is back at once, and then
    waits at most for the dead worker's lock on its delivery to lapse (it is no longer renewed),
    finding it within a retry's base delay (+ 0.5 s jitter)."""
    settings = stores.settings
    if isinstance(stores.broker, RabbitNode):
        return settings["workflow_lock_seconds"] + settings["workflow_retry_base_delay"] + 0.5
    return settings["broker_visibility_timeout"] + settings["broker_restore_interval"]


def pause(load: Load, seconds: float) -> None:
    """The fault schedule: let the load run on for `seconds` (not a wait for a condition)."""
    load.stopped.wait(seconds)


@pytest.mark.parametrize(
    "stores",
    [
        # In the short variant too: it guards the workflow worker's stall watchdog (celery#9054:
        # after the Redis broker restarts the worker may never consume again; the watchdog exits
        # it and the harness restarts it, as Kubernetes does).
        pytest.param("redis", marks=pytest.mark.redis),
        BROKERS[1],
    ],
    indirect=True,
)
def test_broker_stopped_for_10s_and_restarted(stores):
    def inject(load: Load) -> dict[str, Any]:
        pause(load, load.seconds / 3)
        stores.broker.stop()
        stopped = time.time()
        pause(load, 10)
        stores.broker.start()
        return {
            "fault": "broker stopped 10 s mid-load, then started",
            "down_s": 10,
            "stopped_at": stopped,
        }

    # at least 10 s of load once the broker is back (down from 1/3 of the load, for 10 s)
    seconds = max(stores.mode.seconds, 30)
    result = run_scenario(f"broker-stopped-{stores.name}", stores, inject, seconds)
    assert result["rejected_503"] > 0  # the ingestion said so while the broker was away


@pytest.mark.redis
def test_redis_restarted(rabbitmq_broker):
    stores = rabbitmq_broker

    def inject(load: Load) -> dict[str, Any]:
        pause(load, load.seconds / 3)
        stores.store.stop()
        stores.store.start()
        return {"fault": "the Redis of deliveries, saga state and idempotency keys restarted"}

    run_scenario("redis-restarted", stores, inject)


@pytest.mark.parametrize("stores", BROKERS, indirect=True)
def test_workflow_worker_sigkilled_repeatedly(stores):
    system = stores.system

    def inject(load: Load) -> dict[str, Any]:
        kills = 0
        pause(load, 2)
        while kills < 4:
            system.kill("workflow")
            kills += 1
            system.start_role("workflow")
            pause(load, 3)
        return {
            "fault": "workflow worker (and its pool) SIGKILLed every ~3 s, then restarted",
            "kills": kills,
        }

    run_scenario(f"worker-sigkilled-{stores.name}", stores, inject)


@pytest.mark.rabbitmq
def test_downstream_answers_500s_then_hangs_past_the_client_timeout(rabbitmq_broker):
    stores = rabbitmq_broker
    proxy = stores.system.proxy

    def inject(load: Load) -> dict[str, Any]:
        pause(load, load.seconds / 4)
        errors = proxy.add(Fault("PUT", "/api/dronedeliveries", status=500))
        pause(load, 8)
        proxy.clear()
        release = threading.Event()
        hang = proxy.add(Fault("PUT", "/api/dronedeliveries", hold=release))
        # The 500s opened the workflow's circuit breaker (CIRCUIT_BREAKER_BREAK_SECONDS, 30 s):
        # nothing reaches the service until it lets a trial call through, so the hang is timed
        # from the first call it holds.
        wait_until(lambda: hang.hits > 0, 90, "a drone assignment call reaching the hang")
        pause(load, 12)  # the client timeout is HTTP_CLIENT_TIMEOUT (5 s)
        release.set()
        proxy.clear()
        return {
            "fault": "drone scheduler answered 500 for 8 s, then hung 12 s",
            "answered_500": errors.hits,
            "hung": hang.hits,
        }

    result = run_scenario("downstream-500-then-hang", stores, inject)
    assert result["answered_500"] > 0
    assert result["hung"] > 0


@pytest.mark.postgres
@pytest.mark.rabbitmq
def test_postgres_connections_dropped(rabbitmq_broker):
    stores = rabbitmq_broker
    if not on_postgres(stores):
        missing("PostgreSQL is not configured: set DATABASE_URL=postgres://…")
    database_url = stores.system.database_url

    def inject(load: Load) -> dict[str, Any]:
        terminated = 0
        with psycopg.connect(database_url, autocommit=True) as conn:
            for _ in range(max(3, int(load.seconds / 2))):
                pause(load, 2)
                rows = conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchall()
                terminated += sum(1 for (ok,) in rows if ok)
        return {
            "fault": "every connection to the database terminated every 2 s",
            "terminated": terminated,
        }

    result = run_scenario("postgres-connections-dropped", stores, inject)
    assert result["terminated"] > 0


@pytest.mark.parametrize("stores", BROKERS, indirect=True)
def test_rolling_restart_of_gunicorn_and_the_worker(stores):
    system = stores.system

    def inject(load: Load) -> dict[str, Any]:
        pause(load, load.seconds / 3)
        in_flight = []

        def while_answering(old_url: str) -> None:
            wait_until(lambda: load.in_flight_to(old_url) > 0, 30, "a request in flight", 0.002)
            in_flight.append(load.in_flight_to(old_url))

        gunicorn_exit = system.replace("ingestion", while_answering)
        # a warm shutdown lets the running attempt finish: at most the task's time limit
        worker_exit = system.replace(
            "workflow", timeout=stores.settings["workflow_task_time_limit"] + 10
        )
        return {
            "fault": "ingestion (gunicorn) and workflow worker replaced during load: a new "
            "instance up, then SIGTERM to the old one",
            "in_flight_at_sigterm": in_flight[0],
            "gunicorn_exit": gunicorn_exit,
            "worker_exit": worker_exit,
        }

    result = run_scenario(f"rolling-restart-{stores.name}", stores, inject)
    assert (result["gunicorn_exit"], result["worker_exit"]) == (0, 0)
    assert result["in_flight_at_sigterm"] > 0
