"""The stall watchdog never takes a working worker for a stalled one: a real workflow worker whose
only pool slot is busy while messages wait, then holding a retry's countdown longer than the stall
window, keeps running and finishes everything (a stall window of 2 s, so each state lasts several
windows)."""

from __future__ import annotations

import threading

import pytest

from tests.support.faulty_proxy import Fault
from tests.support.live import wait_until

pytestmark = [pytest.mark.e2e]

STALL_SECONDS = 2


@pytest.mark.parametrize("pool", ["prefork", "solo"])  # solo: `make run`'s one-slot workers
def test_a_busy_worker_or_one_holding_a_countdown_is_not_stalled(saga, pool):
    saga.env.update(
        WORKFLOW_POOL=pool,
        WORKFLOW_STALL_SECONDS=str(STALL_SECONDS),
        WORKFLOW_RETRY_BASE_DELAY="3",  # a countdown longer than the stall window
        WORKFLOW_RETRY_MAX_DELAY="3",
        BROKER_VISIBILITY_TIMEOUT="30",  # outlasts the countdown: no second copy
    )
    release = threading.Event()
    saga.proxies["delivery"].add(Fault("PUT", "/api/deliveries/", hold=release, times=1))
    worker = saga.start_worker()  # WORKFLOW_CONCURRENCY=1: one slot

    busy = saga.request_delivery("pkg-busy")
    wait_until(saga.proxies["delivery"].held, 30, "the only slot to hang on the delivery step")
    waiting = [saga.request_delivery(f"pkg-waiting-{n}") for n in range(2)]
    release.wait(3 * STALL_SECONDS)  # the fault schedule: the call hangs for 3 stall windows
    release.set()
    for delivery_id in (busy, *waiting):
        wait_until(lambda d=delivery_id: saga.delivery(d), 60, f"delivery {delivery_id}")

    saga.proxies["dronescheduler"].add(Fault("PUT", "/api/dronedeliveries/", status=503, times=1))
    retried = saga.request_delivery("pkg-countdown")
    wait_until(lambda: saga.delivery(retried), 60, f"delivery {retried} after its countdown")

    assert saga.proxies["dronescheduler"].calls("PUT", f"/api/dronedeliveries/{retried}") == [
        503,
        200,
    ]
    assert worker.popen.poll() is None, worker.output()[-3000:]
    assert "consumer is stalled" not in worker.output()
