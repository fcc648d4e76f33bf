"""The bounded soak: a steady load on every role for `--soak-seconds` (make soak: 10 minutes; CI:
60 s). No request may fail, every accepted request must reach its outcome (the ledger), and no
role's memory may keep growing: each role's resident set (its process tree) at the end may exceed
the one after warm-up by at most SOAK_RSS_GROWTH_MIB or SOAK_RSS_GROWTH_SHARE of it, whichever is
larger."""

from __future__ import annotations

import json
import os
import time

import psutil
import pytest

from tests.chaos.conftest import MODES, chaos_system
from tests.chaos.ledger import RESULTS, Ledger
from tests.chaos.load import Load
from tests.chaos.servers import client, redis_server
from tests.chaos.system import ChaosSystem

pytestmark = [pytest.mark.soak, pytest.mark.e2e, pytest.mark.redis]

# Delivery requests per second, plus their cancels and reschedules (about 1.3 messages each):
# below what one workflow worker (WORKFLOW_CONCURRENCY=2) drains on a shared 2-core machine, so
# the soak measures leaks rather than a backlog (at 4/s a contended run fell behind: a throughput
# question for bench/, not a leak).
RATE = float(os.environ.get("SOAK_RATE", "2"))
RSS_GROWTH_MIB = float(os.environ.get("SOAK_RSS_GROWTH_MIB", "16"))
RSS_GROWTH_SHARE = float(os.environ.get("SOAK_RSS_GROWTH_SHARE", "0.15"))
MIB = 1024 * 1024


def rss_by_role(system: ChaosSystem) -> dict[str, int]:
    """Resident memory of each role's process tree (gunicorn master and workers, Celery's main
    process and its pool), in bytes."""
    sizes = {}
    for role, process in system.current.items():
        root = psutil.Process(process.popen.pid)
        tree = [root, *root.children(recursive=True)]
        sizes[role] = sum(p.memory_info().rss for p in tree if p.is_running())
    return sizes


def test_memory_stays_flat_and_no_request_fails_under_a_steady_load(request, tmp_path):
    seconds = request.config.getoption("--soak-seconds")
    warm_up = max(10.0, seconds / 5)
    with (
        redis_server(tmp_path, "broker") as broker,
        redis_server(tmp_path, "store") as store,
        chaos_system("redis", tmp_path, MODES["full"], broker, store) as stores,
    ):
        system = stores.system
        load = Load(system.ingestion, RATE, warm_up + seconds)
        ledger = Ledger(
            "soak", load, client(store), system.database_url, broker.url, system.deadletter_queue
        ).watch()
        load.done.set()  # no fault to wait for: the load runs for its time and stops
        load.start()
        print(f"\nsoak: warming up {warm_up:.0f} s, then {seconds:.0f} s at {RATE} requests/s")
        load.stopped.wait(warm_up)  # the soak's schedule, not a wait for a condition
        start = rss_by_role(system)
        started = time.monotonic()
        while load.thread.is_alive():
            load.thread.join(30)
            print(
                f"soak: {time.monotonic() - started:.0f} s, {len(load.accepted)} accepted, "
                f"answers {dict(load.answers)}",
                flush=True,
            )
        end = rss_by_role(system)
        load.wait()
        ledger.facts.update(mode=f"soak {seconds:.0f} s", settle_s=120)
        ledger.settle(120)
        result = ledger.close()

    memory = {
        role: {
            "rss_start_mib": round(start[role] / MIB, 1),
            "rss_end_mib": round(end[role] / MIB, 1),
            "bound_mib": round(
                (start[role] + max(RSS_GROWTH_MIB * MIB, RSS_GROWTH_SHARE * start[role])) / MIB, 1
            ),
        }
        for role in start
    }
    report = {
        **result,
        "seconds": seconds,
        "rate": RATE,
        "memory": memory,
        "answers": dict(load.answers),
    }
    (RESULTS / "soak.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'role':<16}{'RSS start MiB':>15}{'RSS end MiB':>13}{'bound MiB':>11}")
    for role, row in memory.items():
        print(f"{role:<16}{row['rss_start_mib']:>15}{row['rss_end_mib']:>13}{row['bound_mib']:>11}")

    assert load.failures == []
    assert load.rejected() == 0, dict(load.answers)
    assert (result["lost"], result["duplicated"], result["violations"]) == (0, 0, [])
    grown = {role: row for role, row in memory.items() if row["rss_end_mib"] > row["bound_mib"]}
    assert grown == {}
