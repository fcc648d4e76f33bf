"""The stalled-consumer watchdog of the workflow worker.

Celery 5.7 / kombu 5.7 on a Redis broker can lose its consumer when the broker restarts: the worker
logs "Couldn't ack", reconnects, and never takes a message again while it looks connected
(celery#9054, #10205). Nothing inside the worker notices, so the watchdog watches what a user
would: messages wait in the worker's queues, the worker has free pool slots, and it receives
nothing. Once that has held for WORKFLOW_STALL_SECONDS the worker says so, fails its probes and
exits non-zero; whoever runs it (Kubernetes, `make run`'s supervisor) starts a new one, which
consumes the messages that waited in the broker: delayed, not lost.

Messages the worker already holds (prefetched, or waiting for their ETA/countdown) are not in the
broker's count of ready messages, so they never look like waiting ones.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

EXIT_STALLED = 75  # EX_TEMPFAIL: a restart fixes it
HARD_EXIT_AFTER_SECONDS = 10.0  # the warm shutdown's grace before the process ends itself


@dataclass(frozen=True)
class Sample:
    """One look at the worker: messages waiting for it in the broker (None: the broker could not
    say), its free pool slots, and how many messages it has received since it started."""

    waiting: int | None
    free_slots: int
    received: int


class StallRule:
    """Stalled = for `window` seconds every sample showed messages waiting, a free slot, and no
    message received since the sample before."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._previous: Sample | None = None
        self._previous_at = 0.0
        self._since: float | None = None  # when the current idle-with-work stretch began

    def observe(self, sample: Sample, now: float) -> bool:
        previous, previous_at = self._previous, self._previous_at
        self._previous, self._previous_at = sample, now
        idle_with_work = (
            previous is not None
            and bool(sample.waiting)
            and sample.free_slots > 0
            and sample.received == previous.received
        )
        if not idle_with_work:
            self._since = None
            return False
        if self._since is None:
            # Nothing came in since the look before; the stretch began at that look only if it,
            # too, saw a free slot (a task that ended since then freed its slot since then).
            self._since = previous_at if previous.free_slots > 0 else now
        return now - self._since >= self.window


class Watchdog:
    """A daemon thread sampling every `interval` seconds; on a stall, `on_stall(reason)` once."""

    def __init__(
        self,
        sample: Callable[[], Sample],
        window: float,
        on_stall: Callable[[str], None],
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sample = sample
        self.rule = StallRule(window)
        self.on_stall = on_stall
        self.interval = interval if interval is not None else max(1.0, min(5.0, window / 6))
        self.clock = clock
        self.stopped = threading.Event()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="stall-watchdog", daemon=True)
        thread.start()
        return thread

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            sample = self.sample()
            if self.rule.observe(sample, self.clock()):
                self.on_stall(
                    f"{sample.waiting} message(s) waited in the broker for "
                    f"{self.rule.window:.0f} s while {sample.free_slots} pool slot(s) were free "
                    "and the worker received none: its consumer is stalled (after a broker "
                    "restart: celery#9054)"
                )
                return


# --- In the workflow worker (connected by the app's ready()) ---

_received = {"count": 0}


def _count_received(**kwargs: object) -> None:
    """task_received: the consumer took a message from the broker (in the main process)."""
    _received["count"] += 1


def _watch_worker(sender: Any = None, **kwargs: object) -> None:
    """worker_ready: start watching a worker that consumes the delivery requests (not the
    scheduler's)."""
    from django.conf import settings

    if not settings.WORKFLOW_STALL_SECONDS or sender is None:
        return
    queues = list(sender.app.amqp.queues.consume_from)
    if settings.DELIVERY_REQUESTS_QUEUE not in queues:
        return
    concurrency = int(getattr(sender.controller, "concurrency", 0) or 1)
    Watchdog(
        lambda: _sample_worker(queues, concurrency),
        settings.WORKFLOW_STALL_SECONDS,
        _stop_stalled_worker,
    ).start()
    logger.info(
        "stall watchdog on: exits if %s wait(s) %s s with a free slot and nothing received",
        ",".join(queues),
        settings.WORKFLOW_STALL_SECONDS,
    )


def _sample_worker(queues: list[str], concurrency: int) -> Sample:
    from celery.worker import state

    from fabrikam.apps.workflow.metrics import depths_of

    received = _received["count"]
    try:
        waiting: int | None = sum(depths_of(queues).values())
    except Exception:  # the broker is away: the consumer reconnecting is not a stall
        waiting = None
    return Sample(waiting, concurrency - len(state.active_requests), received)


def _stop_stalled_worker(reason: str) -> None:
    from celery.worker import state

    from fabrikam.celery import fail_probes

    logger.error(
        "%s; the worker exits with code %s so that it is restarted (the messages stay in the "
        "broker for the next worker)",
        reason,
        EXIT_STALLED,
    )
    fail_probes(f"stalled consumer: {reason}")
    state.should_stop = EXIT_STALLED  # a warm shutdown: in-flight tasks finish or are requeued
    timer = threading.Timer(HARD_EXIT_AFTER_SECONDS, os._exit, (EXIT_STALLED,))
    timer.daemon = True
    timer.start()


def register() -> None:
    from celery import signals

    signals.task_received.connect(_count_received, dispatch_uid="workflow-stall-received")
    signals.worker_ready.connect(_watch_worker, dispatch_uid="workflow-stall-watchdog")
