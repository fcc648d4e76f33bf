"""WORKFLOW_TASK_TIME_LIMIT for a saga attempt run by the solo pool, which Celery leaves unbounded.

The prefork pool bounds an attempt from its parent: at the soft limit the child gets
SoftTimeLimitExceeded raised wherever the attempt is, at the hard limit it is killed. A solo worker
runs the attempt in its only process, so the process bounds itself the same way with a real-time
interval timer: SIGALRM raises SoftTimeLimitExceeded in the attempt at the soft limit (the task then
ends as it does under prefork), and if the attempt is still running at the hard limit SIGALRM's
default action ends the process, whatever it is stuck in; its unacknowledged message goes back to
the queue and whoever runs the worker (the supervisor, Kubernetes) starts it again.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from celery.exceptions import SoftTimeLimitExceeded


def applies(pool: str, eager: bool) -> bool:
    """The pool enforces no time limit itself and the attempt runs in the main thread (where a
    signal is delivered): a solo worker. Prefork enforces its own; a thread cannot take signals."""
    return pool == "solo" and not eager and threading.current_thread() is threading.main_thread()


@contextmanager
def bounded(soft: float, hard: float) -> Iterator[None]:
    """Raise SoftTimeLimitExceeded in the block after `soft` seconds; end the process at `hard`."""

    def soft_limit_reached(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the next one ends the process
        signal.setitimer(signal.ITIMER_REAL, max(hard - soft, 0.001))
        raise SoftTimeLimitExceeded(f"soft time limit ({soft:g} s) exceeded")

    previous = signal.signal(signal.SIGALRM, soft_limit_reached)
    signal.setitimer(signal.ITIMER_REAL, soft)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
