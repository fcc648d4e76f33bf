"""A steady, bounded load of delivery requests, cancels and reschedules against a live ingestion
service, recording what each answered. Each accepted (202) request is remembered with the time it
was accepted, for the ledger."""

from __future__ import annotations

import heapq
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import requests

from tests.support import auth

OWNER = "chaos"
NEW_DROPOFF = {"latitude": 47.6301, "longitude": -122.3400}  # where reschedules move the dropoff


@dataclass
class Accepted:
    delivery_id: str
    package_id: str
    accepted_at: float
    cancel_accepted_at: float | None = None
    reschedule_accepted_at: float | None = None


def delivery_request(package_id: str, rng: random.Random) -> dict:
    now = datetime.now(UTC)
    return {
        "ownerId": OWNER,
        "pickupLocation": f"{rng.uniform(47.60, 47.62):.5f},{rng.uniform(-122.34, -122.32):.5f}",
        "dropOffLocation": {"latitude": 47.6205, "longitude": -122.3493},
        # tomorrow: the drones wait on the ground, so a late reschedule still applies
        "pickupTime": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "deadline": (now + timedelta(days=1, hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "packageInfo": {"packageId": package_id, "size": "Small", "weight": 1.0, "tag": "chaos"},
    }


@dataclass
class Load:
    """`rate` delivery requests per second for at least `seconds`, and on until `done` is set (a
    fault takes as long as it takes); a `cancel_share` of the accepted ones are cancelled and a
    `reschedule_share` rescheduled, 0.2 to 2 s after their 202. `target()` names the ingestion
    base URL of the moment (a rolling restart switches it)."""

    target: Callable[[], str]
    rate: float
    seconds: float
    cancel_share: float = 0.15
    reschedule_share: float = 0.15
    seed: int = 17
    accepted: dict[str, Accepted] = field(default_factory=dict)
    answers: Counter = field(default_factory=Counter)  # "POST 202", "DELETE 503", ...
    failures: list[str] = field(default_factory=list)  # neither accepted nor a 503 to retry
    in_flight: Counter = field(default_factory=Counter)  # base URL → requests being answered
    done: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        # A new connection per request: a kept-alive one the server has just closed would fail
        # a POST (never retried) for a reason that is the client's, not the system's.
        self.headers = {**auth.headers(), "Connection": "close"}
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16)
        self.session.mount("http://", adapter)
        self.pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="load")
        self.thread = threading.Thread(target=self._run, name="load", daemon=True)
        self.stopped = threading.Event()

    def start(self) -> Load:
        self.thread.start()
        return self

    def wait(self) -> None:
        self.thread.join()
        self.pool.shutdown(wait=True)

    def stop(self) -> None:
        self.stopped.set()
        self.wait()

    @property
    def tag(self) -> str:
        return uuid.uuid4().hex[:10]

    def _run(self) -> None:
        follow_ups: list[tuple[float, int, Callable[[], None]]] = []
        started = time.monotonic()
        sent = 0
        while not self.stopped.is_set():
            now = time.monotonic()
            sending = now - started < self.seconds or not self.done.is_set()
            if sending and sent <= (now - started) * self.rate:
                sent += 1
                self.pool.submit(self._request, follow_ups)
            with self._lock:
                due = [heapq.heappop(follow_ups) for _ in range(len(follow_ups))]
                later = [item for item in due if item[0] > now]
                for item in later:
                    heapq.heappush(follow_ups, item)
            for _at, _n, action in (item for item in due if item[0] <= now):
                self.pool.submit(action)
            if not sending:
                with self._lock:
                    if not follow_ups:
                        return
            self.stopped.wait(0.02)  # the load's own pace: one tick per 20 ms

    def _call(self, method: str, path: str, **kwargs: object) -> requests.Response | None:
        base = self.target()
        with self._lock:
            self.in_flight[base] += 1
        try:
            response = self.session.request(
                method, base + path, headers=self.headers, timeout=15, **kwargs
            )
        except requests.RequestException as exc:
            with self._lock:
                self.answers[f"{method} {type(exc).__name__}"] += 1
                self.failures.append(f"{method} {path}: {type(exc).__name__}: {exc}")
            return None
        finally:
            with self._lock:
                self.in_flight[base] -= 1
        with self._lock:
            self.answers[f"{method} {response.status_code}"] += 1
            if response.status_code == 503 and response.headers.get("Retry-After"):
                return response  # refused with nothing queued: the client retries later
            if response.status_code != 202:
                self.failures.append(f"{method} {path}: {response.status_code} {response.text}")
        return response

    def _request(self, follow_ups: list) -> None:
        package_id = f"pkg-chaos-{self.tag}"
        with self._lock:
            body = delivery_request(package_id, self.rng)
        response = self._call("POST", "/api/deliveryrequests", json=body)
        if response is None or response.status_code != 202:
            return
        accepted = Accepted(response.json()["deliveryId"], package_id, time.time())
        with self._lock:
            self.accepted[accepted.delivery_id] = accepted
            draw = self.rng.random()
            delay = self.rng.uniform(0.2, 2.0)
            if draw < self.cancel_share:
                action = lambda: self._cancel(accepted)  # noqa: E731
            elif draw < self.cancel_share + self.reschedule_share:
                action = lambda: self._reschedule(accepted)  # noqa: E731
            else:
                return
            heapq.heappush(follow_ups, (time.monotonic() + delay, id(action), action))

    def _cancel(self, accepted: Accepted) -> None:
        response = self._call("DELETE", f"/api/deliveryrequests/{accepted.delivery_id}")
        if response is not None and response.status_code == 202:
            accepted.cancel_accepted_at = time.time()

    def _reschedule(self, accepted: Accepted) -> None:
        body = {"dropOffLocation": NEW_DROPOFF}
        response = self._call("PATCH", f"/api/deliveryrequests/{accepted.delivery_id}", json=body)
        if response is not None and response.status_code == 202:
            accepted.reschedule_accepted_at = time.time()

    def in_flight_to(self, base: str) -> int:
        with self._lock:
            return self.in_flight[base]

    def rejected(self) -> int:
        return sum(n for answer, n in self.answers.items() if answer.endswith(" 503"))
