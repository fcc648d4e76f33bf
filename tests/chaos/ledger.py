"""The ledger: what became of every accepted request, read from the stores themselves (the
deliveries and saga state in Redis, drone assignments and packages in the SQL database, dead
letters on the broker), never from the API under test.

While a scenario runs, `watch()` polls the saga state of every request still open and notes when
it first reached an outcome; `settle()` waits until every request has one (or a deadline passes);
`close()` checks the invariants and writes tests/chaos/results/<scenario>.json."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
from kombu import Connection, Exchange, Queue

from fabrikam.apps.deliveries.repository import decode_location
from fabrikam.apps.deliveries.repository import key as delivery_key
from fabrikam.apps.workflow import repository as saga_repository
from tests.chaos.load import NEW_DROPOFF, OWNER, Accepted, Load

RESULTS = Path(__file__).with_name("results")
OUTCOMES = ("completed", "cancelled", "compensated")
# A cancel's or reschedule's outcome the workflow refused with its reason (the saga's
# `cancelOutcome`/`rescheduleOutcome`): an answer, not a loss.
REFUSED = b"refused"
LIVE_ASSIGNMENT = ("Assigned", "HeadedToPickup", "HeadedToDropoff")


def saga_key(delivery_id: str) -> str:
    return saga_repository._key("saga", delivery_id)


def sql_rows(database_url: str, query: str) -> list[tuple]:
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        with sqlite3.connect(parts.path) as conn:
            return conn.execute(query).fetchall()
    import psycopg

    with psycopg.connect(database_url, connect_timeout=5) as conn:
        return conn.execute(query).fetchall()


def dead_letters(broker_url: str, queue_name: str) -> list[dict[str, Any]]:
    """Every dead letter on the queue, taken off it (each scenario reads its own)."""
    taken = []
    with Connection(broker_url, connect_timeout=5) as connection:
        queue = Queue(queue_name, Exchange(queue_name, type="direct"), routing_key=queue_name)
        bound = queue(connection.default_channel)
        bound.declare()
        while (message := bound.get(no_ack=False, accept=["json"])) is not None:
            taken.append(message.decode())
            message.ack()
    return taken


@dataclass
class Ledger:
    scenario: str
    load: Load
    store: redis.Redis
    database_url: str
    broker_url: str
    deadletter_queue: str
    facts: dict[str, Any] = field(default_factory=dict)  # what was injected, settings of note
    first_outcome: dict[str, float] = field(default_factory=dict)  # delivery id → when seen
    cancelled_seen: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="ledger", daemon=True)

    def watch(self) -> Ledger:
        self._thread.start()
        return self

    def _statuses(self, ids: list[str]) -> dict[str, str]:
        pipe = self.store.pipeline(transaction=False)
        for delivery_id in ids:
            pipe.hget(saga_key(delivery_id), "status")
        return {
            delivery_id: (status or b"").decode()
            for delivery_id, status in zip(ids, pipe.execute(), strict=True)
        }

    def _poll(self) -> None:
        now = time.time()
        accepted = list(self.load.accepted.values())
        open_ids = [
            a.delivery_id
            for a in accepted
            if a.delivery_id not in self.first_outcome
            or (a.cancel_accepted_at and a.delivery_id not in self.cancelled_seen)
        ]
        pipe = self.store.pipeline(transaction=False)
        for delivery_id in open_ids:
            pipe.hmget(saga_key(delivery_id), "status", "cancelOutcome")
        for delivery_id, (status, cancel_outcome) in zip(open_ids, pipe.execute(), strict=True):
            if status and status.decode() in OUTCOMES:
                self.first_outcome.setdefault(delivery_id, now)
            if cancel_outcome == REFUSED or (
                status and status.decode() in ("cancelled", "compensated")
            ):
                self.cancelled_seen.setdefault(delivery_id, now)

    def _watch(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(redis.RedisError):  # a restarting store: poll again
                self._poll()
            self._stop.wait(0.5)  # the polling period bounds the time resolution (0.5 s)

    def open_requests(self) -> list[Accepted]:
        return [
            a
            for a in self.load.accepted.values()
            if a.delivery_id not in self.first_outcome
            or (a.cancel_accepted_at and a.delivery_id not in self.cancelled_seen)
        ]

    def settle(self, timeout: float) -> None:
        """Wait until every accepted request, cancel included, has reached an outcome."""
        deadline = time.monotonic() + timeout
        while self.open_requests() and time.monotonic() < deadline:
            self._stop.wait(0.5)  # the watcher thread records outcomes; poll it with a deadline
        # reschedules land after their delivery's outcome: give them the same deadline
        while self._unapplied_reschedules() and time.monotonic() < deadline:
            self._stop.wait(0.5)
        self._stop.set()
        self._thread.join(5)
        self._poll()

    def _unapplied_reschedules(self) -> list[str]:
        waiting = [
            a.delivery_id
            for a in self.load.accepted.values()
            if a.reschedule_accepted_at and not a.cancel_accepted_at
        ]
        statuses = self._statuses(waiting)
        pipe = self.store.pipeline(transaction=False)
        for delivery_id in waiting:
            pipe.hget(delivery_key("d", delivery_id), "q")
            pipe.hget(saga_key(delivery_id), "rescheduleOutcome")
        replies = pipe.execute()
        return [
            delivery_id
            for n, delivery_id in enumerate(waiting)
            if statuses[delivery_id] == "completed"
            and not _is_new_dropoff(replies[2 * n])
            and replies[2 * n + 1] != REFUSED
        ]

    # --- the final reading ---
    def close(self) -> dict[str, Any]:
        accepted = self.load.accepted
        ids = list(accepted)
        pipe = self.store.pipeline(transaction=False)
        for delivery_id in ids:
            pipe.hgetall(saga_key(delivery_id))
            pipe.hgetall(delivery_key("d", delivery_id))
            pipe.lrange(delivery_key("ev", delivery_id), 0, -1)
        replies = pipe.execute()
        sagas = {i: _text(replies[3 * n]) for n, i in enumerate(ids)}
        deliveries = {i: _text(replies[3 * n + 1]) for n, i in enumerate(ids)}
        created_events = {
            i: sum(1 for line in replies[3 * n + 2] if line.startswith(b"Created|"))
            for n, i in enumerate(ids)
        }
        assignments = defaultdict(list)
        for delivery_id, drone_id, stage in sql_rows(
            self.database_url,
            "SELECT delivery_id, drone_id, stage FROM dronescheduler_dronedelivery",
        ):
            assignments[delivery_id].append((drone_id, stage))
        # Package ids are unique per owner (issue 16); the load sends one owner's requests.
        packages = {
            package_id: state
            for package_id, owner_id, state in sql_rows(
                self.database_url,
                "SELECT package_id, owner_id, delivery_state FROM packages_package",
            )
            if owner_id == OWNER
        }
        letters = defaultdict(list)
        for letter in dead_letters(self.broker_url, self.deadletter_queue):
            body = letter.get("originalBody") or {}
            if isinstance(body, dict) and body.get("deliveryId") in accepted:
                letters[body["deliveryId"]].append(letter)

        counts: Counter = Counter()
        violations: list[str] = []
        invisible_cancels = 0
        for delivery_id, request in accepted.items():
            saga, delivery = sagas[delivery_id], deliveries[delivery_id]
            status, reason = saga.get("status", ""), saga.get("reason", "")
            live = bool(delivery) and delivery.get("s") != "Cancelled"
            held = [a for a in assignments.get(delivery_id, []) if a[1] in LIVE_ASSIGNMENT]
            package_state = packages.get(request.package_id)
            own_letters = [
                x for x in letters.get(delivery_id, []) if x["originalBody"].get("operation")
            ]
            delivery_letters = [
                x for x in own_letters if x["originalBody"]["operation"] == "delivery"
            ]
            where = f"{delivery_id} ({status or 'no saga state'}"
            where += f", reason {reason!r})" if reason else ")"
            if created_events[delivery_id] > 1 or len(delivery_letters) > 1:
                counts["duplicated"] += 1
                violations.append(
                    f"{where}: scheduled {created_events[delivery_id]} times, "
                    f"{len(delivery_letters)} dead letters"
                )
            if delivery_letters:
                outcome = "deadlettered"
                if not all(x.get("reason") for x in delivery_letters):
                    violations.append(f"{where}: a dead letter without a reason")
                if live or held:
                    counts["duplicated"] += 1
                    violations.append(f"{where}: dead-lettered and still scheduled")
            elif status in OUTCOMES:
                outcome = status
            else:
                counts["lost"] += 1
                violations.append(f"{where}: no outcome after {self.facts.get('settle_s')} s")
                continue
            counts[outcome] += 1
            for letter in own_letters:
                if letter not in delivery_letters:
                    violations.append(
                        f"{where}: {letter['originalBody']['operation']} "
                        f"dead-lettered: {letter.get('reason')}"
                    )
            if outcome == "completed":
                # the flight may have landed since: Completed is still this delivery's drone
                drones = {a[0] for a in assignments.get(delivery_id, []) if a[1] != "Released"}
                if not live or len(drones) != 1 or delivery.get("dr") not in drones:
                    violations.append(
                        f"{where}: completed but delivery {delivery or 'absent'} "
                        f"and assignments {assignments.get(delivery_id)}"
                    )
                if package_state not in ("InDelivery", "Delivered"):
                    violations.append(f"{where}: completed but package is {package_state}")
                if request.cancel_accepted_at and saga.get("cancelOutcome") == "refused":
                    counts["cancels_refused"] += 1  # e.g. the drone had delivered it already
                elif request.cancel_accepted_at:
                    counts["lost"] += 1
                    violations.append(f"{where}: the accepted cancel was lost")
                if request.reschedule_accepted_at and saga.get("rescheduleOutcome") == "refused":
                    counts["reschedules_refused"] += 1  # an answer with its reason, not a loss
                elif request.reschedule_accepted_at and not _is_new_dropoff(delivery.get("q")):
                    counts["lost"] += 1
                    violations.append(f"{where}: the accepted reschedule was lost")
            else:
                if outcome != "deadlettered" and not reason:
                    violations.append(f"{where}: {outcome} without a reason")
                if live or held:
                    violations.append(
                        f"{where}: {outcome} but still scheduled ({delivery.get('s')}, {held})"
                    )
                if package_state == "InDelivery":
                    violations.append(f"{where}: {outcome} but its package is InDelivery")
                if outcome == "cancelled" and not delivery:
                    invisible_cancels += 1
        drones = Counter(
            drone
            for rows in assignments.values()
            for drone, stage in rows
            if stage in LIVE_ASSIGNMENT
        )
        for drone, held in drones.items():
            if held > 1:
                counts["duplicated"] += 1
                violations.append(f"drone {drone} holds {held} deliveries")

        waits = [
            self.first_outcome[i] - a.accepted_at
            for i, a in accepted.items()
            if i in self.first_outcome
        ]
        waits += [
            self.cancelled_seen[i] - a.cancel_accepted_at
            for i, a in accepted.items()
            if a.cancel_accepted_at and i in self.cancelled_seen
        ]
        result = {
            "scenario": self.scenario,
            "requests": len(accepted),
            **{name: counts[name] for name in (*OUTCOMES, "deadlettered", "lost", "duplicated")},
            "max_seconds_to_outcome": round(max(waits, default=0.0), 1),
            "cancels": sum(1 for a in accepted.values() if a.cancel_accepted_at),
            "reschedules": sum(1 for a in accepted.values() if a.reschedule_accepted_at),
            "cancels_refused": counts["cancels_refused"],
            "reschedules_refused": counts["reschedules_refused"],
            "rejected_503": self.load.rejected(),
            "failed_requests": len(self.load.failures),
            "failures": self.load.failures[:10],
            "cancelled_not_visible": invisible_cancels,
            "violations": violations[:50],
            **self.facts,
        }
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{self.scenario}.json").write_text(json.dumps(result, indent=2) + "\n")
        print(
            f"\nledger {self.scenario}: "
            + json.dumps({k: v for k, v in result.items() if k != "violations"})
        )
        for violation in violations[:20]:
            print(f"  ! {violation}")
        return result


def _text(raw: dict[bytes, bytes]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in raw.items()}


def _is_new_dropoff(encoded: bytes | str | None) -> bool:
    if not encoded:
        return False
    location = decode_location(encoded)
    return (location.latitude, location.longitude) == (
        NEW_DROPOFF["latitude"],
        NEW_DROPOFF["longitude"],
    )
