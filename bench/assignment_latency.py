"""Drone assignment latency with 10,000 drones, against a naive scan measured in the same run.

    python bench/assignment_latency.py [--drones 10000] [--requests 300] [--no-scan] [--json F]

Uses DATABASE_URL's server when it is PostgreSQL (in a throwaway database created next to the
given one, dropped afterwards), otherwise a temporary SQLite file. Prints each strategy's latency,
its ratio against the baseline (a Python scan of every available drone, which is what a scheduler
without the indexed query would do), and the query plan of the indexed query.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
AREA_RADIUS_KM = 40.0  # a metropolitan region; a drone reaches a few km around its base


@contextlib.contextmanager
def database() -> Iterator[str]:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        with tempfile.TemporaryDirectory(prefix="fabrikam-bench-") as directory:
            yield f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
        return
    import psycopg

    parts = urlsplit(base)
    name = f"fabrikam_bench_{uuid.uuid4().hex[:8]}"
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(database_url: str, data_dir: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrikam.settings")
    os.environ.setdefault("DEBUG", "true")
    os.environ["FABRIKAM_DATA_DIR"] = data_dir
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def progress(label: str, done: int, total: int) -> None:
    width = 30
    filled = width * done // total
    print(
        f"\r  {label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", flush=True
    )
    if done == total:
        print()


def seed(count: int) -> None:
    from itertools import islice

    from django.core.management import call_command
    from django.db import connection

    from fabrikam.apps.dronescheduler.fleet import build_drones
    from fabrikam.apps.dronescheduler.models import Drone
    from fabrikam.contract.geo import Location

    print("  migrating …", flush=True)
    call_command("migrate", verbosity=0)
    fleet = build_drones(count, Location(47.6062, -122.3321), AREA_RADIUS_KM, "bench")
    done = 0
    while batch := list(islice(fleet, 1000)):
        Drone.objects.bulk_create(batch)
        done += len(batch)
        progress("seeding drones", done, count)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def requests_for(count: int) -> list:
    from fabrikam.apps.dronescheduler.fleet import random_point
    from fabrikam.apps.dronescheduler.services import AssignmentRequest, PackageDetail
    from fabrikam.contract.geo import Location

    rng = random.Random(42)
    center = Location(47.6062, -122.3321)
    made = []
    for n in range(count):
        pickup = random_point(center, AREA_RADIUS_KM * 0.9, rng)
        dropoff = random_point(pickup, 4.0, rng)
        size = rng.choice(["Small", "Small", "Medium", "Large"])
        packages = (PackageDetail(f"pkg-{n}", size, round(rng.uniform(0.2, 4.0), 1)),)
        made.append(AssignmentRequest(f"bench-{n}", "bench", pickup, dropoff, packages))
    return made


def python_scan(request) -> object:
    """Baseline: every available drone into Python, the same rules checked one by one."""
    from fabrikam.apps.dronescheduler.models import Drone, DroneStatus
    from fabrikam.apps.dronescheduler.services import has_battery_for, trip_km
    from fabrikam.contract.geo import distance_km

    best, best_km = None, math.inf
    for drone in Drone.objects.filter(status=DroneStatus.AVAILABLE):
        if drone.max_payload_kg < request.weight_kg or drone.max_package_size < request.size:
            continue
        km = distance_km(drone.position, request.pickup)
        if km < best_km and has_battery_for(drone, trip_km(drone, request.pickup, request.dropoff)):
            best, best_km = drone, km
    return best


def sql_query(request) -> object:
    """What assign_drone does: the ordered query, one locked candidate at a time."""
    from fabrikam.apps.dronescheduler import services

    try:
        return services.take_nearest_fitting(request)
    except services.NoDroneAvailable:
        return None


class Rollback(Exception):
    pass


def timed_selection(choose: Callable, requests: list, label: str) -> tuple[list[float], list]:
    """Latency of one selection, inside a transaction that is rolled back (as assign_drone runs
    it, with the candidate locked on PostgreSQL)."""
    from django.db import transaction

    times, chosen = [], []
    for n, request in enumerate(requests, 1):
        started = time.perf_counter()
        with contextlib.suppress(Rollback), transaction.atomic():
            drone = choose(request)
            elapsed = time.perf_counter() - started
            raise Rollback
        times.append(elapsed)
        chosen.append(getattr(drone, "pk", None))
        if n % 25 == 0 or n == len(requests):
            progress(label, n, len(requests))
    return times, chosen


def timed_assignments(requests: list) -> list[float]:
    """The whole service call: select, lock, write the assignment and flight; then release so
    the fleet stays the same for the next request (the release is not timed)."""
    from fabrikam.apps.dronescheduler import services

    times = []
    for n, request in enumerate(requests, 1):
        started = time.perf_counter()
        with contextlib.suppress(services.NoDroneAvailable):
            services.assign_drone(request)
            times.append(time.perf_counter() - started)
            services.release_drone(request.delivery_id)
        if n % 25 == 0 or n == len(requests):
            progress("assign_drone end to end", n, len(requests))
    return times


def ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def write_json(
    path: Path | None, vendor: str, drones: int, times: list[float], selection: list[float]
) -> None:
    """assign_drone's latency (select, lock, write, commit) and the selection's alone."""
    summary = {
        "database": vendor,
        "drones": drones,
        "assignments": len(times),
        "p50_ms": round(ms(times, 0.5), 2),
        "p99_ms": round(ms(times, 0.99), 2),
        "max_ms": round(1000 * max(times), 2),
        "selection_p50_ms": round(ms(selection, 0.5), 2),
        "selection_p99_ms": round(ms(selection, 0.99), 2),
    }
    print(
        f"  assign_drone: p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms; the selection "
        f"alone: p50 {summary['selection_p50_ms']} ms, p99 {summary['selection_p99_ms']} ms"
    )
    if path is not None:
        path.write_text(json.dumps(summary))


def query_plan(request) -> str:
    from django.db import transaction

    from fabrikam.apps.dronescheduler import selectors

    with transaction.atomic():
        query = selectors.available_drones_by_distance(
            request.pickup, request.dropoff, request.weight_kg, request.size
        ).select_for_update(skip_locked=True, of=("self",))[:1]
        return query.explain()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drones", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--no-scan", action="store_true", help="skip the Python-scan baseline")
    parser.add_argument("--json", type=Path, help="write assign_drone's latency here (make bench)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fabrikam-bench-data-") as data_dir, database() as url:
        setup_django(url, data_dir)
        from django.db import connection

        print(f"assignment latency: {args.drones} drones, {connection.vendor}")
        seed(args.drones)
        requests = requests_for(args.requests)
        strategies = {
            "Python scan of every drone (baseline)": python_scan,
            "SQL: filter and order, LIMIT 1": sql_query,
        }
        if args.no_scan:
            selection, _ = timed_selection(sql_query, requests, "selection (rolled back)")
            assignments = timed_assignments(requests_for(args.requests))
            write_json(args.json, connection.vendor, args.drones, assignments, selection)
            return
        results = {}
        for label, choose in strategies.items():
            results[label] = timed_selection(choose, requests, label)
        assignments = timed_assignments(requests_for(args.requests))
        selection = results["SQL: filter and order, LIMIT 1"][0]
        write_json(args.json, connection.vendor, args.drones, assignments, selection)

        baseline_times, baseline_chosen = results["Python scan of every drone (baseline)"]
        base = statistics.median(baseline_times)
        print(f"\n  {'selection strategy':40} {'p50 ms':>8} {'p95 ms':>8}  vs baseline")
        for label, (times, chosen) in results.items():
            agree = sum(a == b for a, b in zip(chosen, baseline_chosen, strict=True))
            print(
                f"  {label:40} {ms(times, 0.5):8.2f} {ms(times, 0.95):8.2f}  "
                f"{base / statistics.median(times):6.1f}x faster "
                f"(same drone as the baseline for {agree}/{len(chosen)})"
            )
        print(
            f"  {'assign_drone end to end (query + writes)':40} "
            f"{ms(assignments, 0.5):8.2f} {ms(assignments, 0.95):8.2f}  "
            f"{base / statistics.median(assignments):6.1f}x faster than the baseline's scan alone"
        )
        explain = "EXPLAIN" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
        print(f"\n  {explain} of the assignment query:")
        for line in query_plan(requests[0]).splitlines():
            print(f"    {line}")


if __name__ == "__main__":
    main()
