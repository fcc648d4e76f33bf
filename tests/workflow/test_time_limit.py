"""WORKFLOW_TASK_TIME_LIMIT stops a hung saga attempt in every pool that runs the saga in a process
of its own: prefork (Celery's parent enforces it) and solo (the attempt bounds itself,
fabrikam/apps/workflow/time_limit.py). A real worker, a real downstream service whose package step
hangs behind a proxy far longer than the limit (HTTP_CLIENT_TIMEOUT raised so that only the limit
can end the wait)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading

import pytest

from fabrikam.apps.workflow import time_limit
from tests.support.faulty_proxy import Fault
from tests.support.live import wait_until


@pytest.mark.e2e
@pytest.mark.parametrize("pool", ["prefork", "solo"])
def test_a_hung_attempt_is_stopped_at_the_soft_limit_and_the_worker_goes_on(saga, pool):
    saga.env.update(
        WORKFLOW_POOL=pool,
        WORKFLOW_TASK_TIME_LIMIT="16",  # the soft limit, 15 s before it: 1 s
        HTTP_CLIENT_TIMEOUT="120",
    )
    never = threading.Event()
    saga.proxies["package"].add(Fault("PUT", "/api/packages/pkg-hung", hold=never, times=1))
    worker = saga.start_worker()  # WORKFLOW_CONCURRENCY=1: one slot
    try:
        hung = saga.request_delivery("pkg-hung")
        wait_until(saga.proxies["package"].held, 30, "the attempt to hang on the package step")
        after = saga.request_delivery("pkg-after")
        wait_until(lambda: saga.delivery(after), 60, f"delivery {after} on the freed slot")
        output = wait_until(
            lambda: "SoftTimeLimitExceeded" in worker.output() and worker.output(),
            30,
            "the worker to log the attempt stopped by its soft time limit",
        )
        assert worker.popen.poll() is None, output[-3000:]
        assert saga.delivery(hung) is None  # stopped before its delivery step, not retried
        assert saga.proxies["package"].calls("PUT", "/api/packages/pkg-hung") == []
    finally:
        never.set()  # the proxy's held request ends; nothing is waiting for it any more


def in_a_process_of_its_own(code: str) -> subprocess.CompletedProcess[str]:
    """SIGALRM and the real-time timer are the process's (pytest-timeout uses them here)."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=20, check=False
    )


STUCK_PAST_THE_SOFT_LIMIT = """
import time
from celery.exceptions import SoftTimeLimitExceeded
from fabrikam.apps.workflow import time_limit

with time_limit.bounded(0.2, 0.6):
    try:
        time.sleep(30)
    except SoftTimeLimitExceeded:
        print("soft limit", flush=True)
        time.sleep(30)  # an attempt that does not give up: the hard limit must end it
print("not stopped", flush=True)
"""


def test_an_attempt_still_running_at_the_hard_limit_ends_its_solo_worker_process():
    """As prefork kills a child at the hard limit, a solo worker's process ends there (its message,
    unacknowledged, goes back to the queue; the supervisor or Kubernetes starts a new worker)."""
    result = in_a_process_of_its_own(STUCK_PAST_THE_SOFT_LIMIT)
    assert result.stdout == "soft limit\n", result.stderr
    assert result.returncode == -signal.SIGALRM


WITHIN_THE_LIMIT = """
import signal
from fabrikam.apps.workflow import time_limit

with time_limit.bounded(5, 10):
    pass
print(signal.getitimer(signal.ITIMER_REAL), signal.getsignal(signal.SIGALRM) is signal.SIG_DFL)
"""


def test_an_attempt_within_its_limit_leaves_no_timer_behind():
    result = in_a_process_of_its_own(WITHIN_THE_LIMIT)
    assert result.stdout == "(0.0, 0.0) True\n", result.stderr


@pytest.mark.parametrize(
    ("pool", "eager", "main_thread", "applies"),
    [
        ("solo", False, True, True),
        ("solo", True, True, False),  # run in the caller (tests): not the worker's to bound
        ("prefork", False, True, False),  # Celery's parent enforces it
        ("threads", False, False, False),  # a thread cannot take a signal
    ],
)
def test_only_a_solo_worker_bounds_its_own_attempts(pool, eager, main_thread, applies):
    answer: list[bool] = []

    def check() -> None:
        answer.append(time_limit.applies(pool, eager))

    if main_thread:
        check()
    else:
        thread = threading.Thread(target=check)
        thread.start()
        thread.join()
    assert answer == [applies]
