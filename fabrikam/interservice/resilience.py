"""Resilience primitives for calls to other services: retry delays, a circuit breaker and a
bulkhead. State lives in the calling process (one breaker per downstream service per process), as
in Polly or resilience4j; the clock is injectable so tests can drive time."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

Clock = Callable[[], float]


def backoff_delay(
    attempt: int,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rng: Callable[[], float] = random.random,
) -> float:
    """Delay before retry number `attempt` (1-based): exponential with full jitter, capped; a
    server's Retry-After wins when it is longer."""
    exponential = min(cap, base * 2 ** (attempt - 1))
    delay = exponential * (
        0.5 + rng() / 2
    )  # jitter in [50%, 100%]: spreads the herd, keeps a floor
    return max(delay, retry_after or 0.0)


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(Exception):
    def __init__(self, service: str, retry_in: float) -> None:
        super().__init__(f"circuit to {service} is open; retry in {retry_in:.1f}s")
        self.service = service
        self.retry_in = retry_in


@dataclass
class CircuitBreaker:
    """Opens after `failure_threshold` consecutive failures; after `break_seconds` lets one trial
    call through (half-open): success closes it, failure opens it again."""

    service: str
    failure_threshold: int
    break_seconds: float
    clock: Clock = time.monotonic
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def before_call(self) -> None:
        with self._lock:
            if self.state is BreakerState.OPEN:
                waited = self.clock() - self.opened_at
                if waited < self.break_seconds:
                    raise CircuitOpen(self.service, self.break_seconds - waited)
                self.state = BreakerState.HALF_OPEN
            elif self.state is BreakerState.HALF_OPEN:
                # One trial call at a time; the others wait for its verdict.
                raise CircuitOpen(self.service, 0.0)

    def record_success(self) -> None:
        with self._lock:
            self.state = BreakerState.CLOSED
            self.failures = 0

    def record_failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self.state is BreakerState.HALF_OPEN or self.failures >= self.failure_threshold:
                self.state = BreakerState.OPEN
                self.opened_at = self.clock()


class BulkheadFull(Exception):
    def __init__(self, service: str, limit: int) -> None:
        super().__init__(f"more than {limit} concurrent calls to {service}; try again later")
        self.service = service


@dataclass
class Bulkhead:
    """At most `limit` concurrent calls to one service from this process."""

    service: str
    limit: int
    wait_seconds: float

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(self.limit)

    def __enter__(self) -> Bulkhead:
        if not self._slots.acquire(timeout=self.wait_seconds):
            raise BulkheadFull(self.service, self.limit)
        return self

    def __exit__(self, *exc: object) -> None:
        self._slots.release()
