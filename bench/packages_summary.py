"""How much the (owner_id, created_at) index and the in-store aggregation save the package summary.

Fills a throwaway packages store (the SQL default, or MONGODB_URI's server in a database of its own)
with packages over two years: one large owner with a quarter of them, the rest spread over many
small owners. Times `owner_summary` for a month of each against two baselines measured in the same
run: the same aggregation with the index dropped, and fetching the owner's weights to add them up in
Python. Prints the ratios (baseline / ours; above 1 means ours is faster).

    .venv/bin/python bench/packages_summary.py [--packages 60000] [--owners 300] [--rounds 200]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(what: str, call: Callable[[], object], rounds: int) -> float:
    call()  # warm caches and connections
    start = time.perf_counter()
    for _ in range(rounds):
        call()
    per_call = (time.perf_counter() - start) / rounds
    print(f"  {what:<44} {per_call * 1000:8.3f} ms/call")
    return per_call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=60_000)
    parser.add_argument("--owners", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="fabrikam-bench-")
    os.environ["DEBUG"] = "false"  # no per-query logging in the timings
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ["FABRIKAM_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)  # a throwaway SQLite file, never a shared server
    if os.environ.get("MONGODB_URI"):
        os.environ["MONGODB_DATABASE"] = f"fabrikam_bench_{os.getpid()}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrikam.settings")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    from fabrikam.apps.packages import selectors
    from fabrikam.apps.packages.models import Package, storage_key

    alias = settings.PACKAGES_DB_ALIAS
    connection = connections[alias]
    print(f"==> store: {connection.vendor} ({alias}); migrating")
    call_command("migrate", database=alias, verbosity=0)
    if alias != "default":
        call_command("migrate", verbosity=0)

    print(f"==> writing {args.packages} packages of {args.owners} owners over two years")
    rng = random.Random(6)
    origin = datetime(2025, 1, 1, tzinfo=UTC)
    batch: list[Package] = []
    for n in range(args.packages):
        small_owner = f"owner-{rng.randrange(args.owners):04d}"
        owner_id = "large" if rng.random() < 0.25 else small_owner
        batch.append(
            Package(
                key=storage_key(owner_id, f"bench-{n:07d}"),  # bulk_create does not call save()
                package_id=f"bench-{n:07d}",
                size=rng.choice(["Small", "Medium", "Large"]),
                weight=round(rng.uniform(0.1, 25), 3),
                owner_id=owner_id,
                created_at=origin + timedelta(minutes=rng.randrange(2 * 365 * 24 * 60)),
            )
        )
        if len(batch) == 5000:
            Package.objects.using(alias).bulk_create(batch)
            batch.clear()
            print(f"    {n + 1} written", flush=True)
    Package.objects.using(alias).bulk_create(batch)

    year, month = 2026, 3
    index = next(i for i in Package._meta.indexes if i.name == "package_owner_created")
    for owner in ("owner-0007", "large"):

        def ours(owner: str = owner) -> object:
            return selectors.owner_summary(owner, year, month)

        def in_python(owner: str = owner) -> object:
            packages = selectors.owner_packages(owner, year, month)
            weights = list(packages.values_list("weight", flat=True))
            return round(sum(weights), 3), len(weights)

        expected = ours()
        assert in_python() == (expected.total_weight, expected.count), "the baseline disagrees"
        print(f"==> {owner}, {year}-{month:02d}: {expected.count} packages, {args.rounds} rounds")
        with_index = timed("in-store aggregation, indexed (ours)", ours, args.rounds)
        python_sum = timed("baseline: fetch weights, add in Python", in_python, args.rounds)
        with connection.schema_editor() as editor:
            editor.remove_index(Package, index)
        no_index = timed("baseline: in-store aggregation, no index", ours, args.rounds)
        with connection.schema_editor() as editor:
            editor.add_index(Package, index)
        print(f"    ratio no-index / ours:   {no_index / with_index:6.1f}x")
        print(f"    ratio python-sum / ours: {python_sum / with_index:6.1f}x")
    if alias != "default":
        connection.database.client.drop_database(settings.DATABASES[alias]["NAME"])
    connections.close_all()
    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
