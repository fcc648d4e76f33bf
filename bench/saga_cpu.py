"""The workflow saga's CPU per delivery in process, without Celery or the broker.

    python bench/saga_cpu.py [--drones 10000] [--deliveries 300] [--rounds 3] [--json F]

`services.handle` over fresh delivery messages, as the `all` role's worker runs it (in-process
calls to the three contexts, SQLite in a temporary directory, an embedded Redis unless REDIS_URL
names one, DEBUG on as in `make run`), with Django's connection upkeep before and after each
delivery as the worker does between tasks. Its baseline, in the same run: the saga's three calls
alone (the same in-process calls with the same bodies, without the saga's lock and state), so
the ratio is what the saga adds to the work it orders. Prints the process CPU
(`time.process_time`) and the wall time per delivery of each round and their medians, after a
warm-up.
Run it on two checkouts in one sitting to compare them (the figure is CPU, so it moves less with
the machine's load than a rate does).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from assignment_latency import AREA_RADIUS_KM, seed, setup_django  # noqa: E402
from support.local_stores import local_stores  # noqa: E402


def messages(count: int, rng: random.Random) -> list[dict]:
    from fabrikam.apps.dronescheduler.fleet import random_point
    from fabrikam.contract.geo import Location

    center = Location(47.6062, -122.3321)
    made = []
    for n in range(count):
        pickup = random_point(center, AREA_RADIUS_KM * 0.9, rng)
        dropoff = random_point(pickup, 4.0, rng)
        delivery_id = uuid.uuid4().hex
        made.append(
            {
                "operation": "delivery",
                "deliveryId": delivery_id,
                "ownerId": f"owner-{n % 50}",
                "pickup": pickup.as_dict(),
                "dropoff": dropoff.as_dict(),
                "pickupTime": "2026-12-03T10:00:00Z",
                "deadline": "",
                "expedited": False,
                "confirmationRequired": "None",
                "packageInfo": {
                    "packageId": f"pkg-{delivery_id[:12]}",
                    "size": rng.choice(["Small", "Small", "Medium", "Large"]),
                    "weight": round(rng.uniform(0.2, 4.0), 1),
                    "tag": "bench",
                },
            }
        )
    return made


def saga(message: dict) -> None:
    from fabrikam.apps.workflow import services

    outcome = services.handle(message)
    if outcome.status != "completed":
        raise SystemExit(f"delivery {message['deliveryId']} ended {outcome}: fleet too small?")


def calls_alone(message: dict) -> None:
    """The baseline: the saga's three calls, without its lock and state."""
    from fabrikam.apps.workflow import clients, services

    delivery_id = message["deliveryId"]
    clients.put_package(message["packageInfo"]["packageId"], services._package_body(message))
    assigned = clients.assign_drone(delivery_id, services._assignment_body(message))
    clients.put_delivery(delivery_id, services._delivery_body(message, assigned["droneId"]))


def run(batch: list[dict], deliver: Callable[[dict], None] = saga) -> tuple[float, float]:
    """CPU and wall seconds for the batch."""
    from django.db import close_old_connections

    cpu, wall = time.process_time(), time.perf_counter()
    for message in batch:
        close_old_connections()  # what the worker does before and after every task
        deliver(message)
        close_old_connections()
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drones", type=int, default=10_000)
    parser.add_argument("--deliveries", type=int, default=300, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    with local_stores() as data_dir:
        setup_django(f"sqlite:///{data_dir / 'bench.sqlite3'}", str(data_dir))
        seed(args.drones)
        rng = random.Random(7)
        run(messages(20, rng))  # warm-up: imports, the service token, prepared statements
        rounds: dict[str, list[tuple[float, float]]] = {"calls alone": [], "saga": []}
        for number in range(1, args.rounds + 1):
            for label, deliver in (("calls alone", calls_alone), ("saga", saga)):
                cpu, wall = run(messages(args.deliveries, rng), deliver)
                rounds[label].append((cpu * 1000 / args.deliveries, wall * 1000 / args.deliveries))
                print(
                    f"  round {number}, {label}: {rounds[label][-1][0]:.2f} ms CPU, "
                    f"{rounds[label][-1][1]:.2f} ms wall per delivery ({args.deliveries})",
                    flush=True,
                )
    figures = {
        label: {
            "cpu_ms_per_delivery": statistics.median(r[0] for r in done),
            "wall_ms_per_delivery": statistics.median(r[1] for r in done),
        }
        for label, done in rounds.items()
    }
    for label, figure in figures.items():
        print(
            f"{label}: {figure['cpu_ms_per_delivery']:.2f} ms CPU, "
            f"{figure['wall_ms_per_delivery']:.2f} ms wall per delivery (median)"
        )
    ratio = figures["saga"]["cpu_ms_per_delivery"] / figures["calls alone"]["cpu_ms_per_delivery"]
    print(f"saga vs its calls alone: {ratio:.2f}x the CPU")
    if args.json:
        args.json.write_text(json.dumps({**figures, "saga_vs_calls_alone": ratio}) + "\n")


if __name__ == "__main__":
    main()
