"""The stalled-consumer watchdog's rule (fabrikam/apps/workflow/watchdog.py): a worker is stalled
only when, for the whole window, messages waited in the broker, a pool slot was free and nothing
was received. Its end to end check is the chaos scenario broker-stopped-redis."""

from __future__ import annotations

import threading

import requests

from fabrikam.apps.common.probe_server import ProbeState, serve_probes
from fabrikam.apps.workflow.watchdog import Sample, StallRule, Watchdog
from tests.support.live import free_port, wait_until

WINDOW = 30.0


def looks(rule: StallRule, samples: list[tuple[float, Sample]]) -> list[bool]:
    return [rule.observe(sample, at) for at, sample in samples]


def every_5s(*samples: Sample) -> list[tuple[float, Sample]]:
    return [(5.0 * i, sample) for i, sample in enumerate(samples)]


def test_waiting_messages_a_free_slot_and_no_receipt_for_the_window_is_a_stall():
    stuck = Sample(waiting=12, free_slots=2, received=40)
    verdicts = looks(StallRule(WINDOW), every_5s(*[stuck] * 8))
    # idle from the first look (t=0): stalled once 30 s have passed, at t=30, not before
    assert verdicts == [False] * 6 + [True, True]


def test_any_message_received_starts_the_window_again():
    rule = StallRule(WINDOW)
    samples = [Sample(12, 2, 40)] * 6 + [Sample(12, 2, 41)] + [Sample(12, 2, 41)] * 6
    verdicts = looks(rule, every_5s(*samples))
    assert not any(verdicts[:12])  # t=0..55: the receipt at t=30 reset the stretch begun at t=0
    assert verdicts[12]  # t=60: 30 s after the last receipt (seen at t=30)


def test_a_slot_freed_since_the_last_look_is_idle_from_this_look_not_that_one():
    busy = Sample(waiting=12, free_slots=0, received=40)
    freed = Sample(waiting=12, free_slots=1, received=40)  # the task ended, nothing new received
    verdicts = looks(StallRule(WINDOW), every_5s(*[busy] * 6, *[freed] * 8))
    assert not any(verdicts[:12])  # t=0..55: the slot was seen free first at t=30
    assert verdicts[12]  # t=60: 30 s after that look


def test_a_busy_pool_is_not_a_stall():
    busy = Sample(waiting=12, free_slots=0, received=40)
    assert not any(looks(StallRule(WINDOW), every_5s(*[busy] * 20)))


def test_an_empty_queue_is_not_a_stall():
    idle = Sample(waiting=0, free_slots=2, received=40)
    assert not any(looks(StallRule(WINDOW), every_5s(*[idle] * 20)))


def test_a_broker_that_cannot_say_is_not_a_stall_and_restarts_the_window():
    rule = StallRule(WINDOW)
    samples = [Sample(12, 2, 40)] * 5 + [Sample(None, 2, 40)] + [Sample(12, 2, 40)] * 6
    verdicts = looks(rule, every_5s(*samples))
    assert not any(verdicts[:11])
    assert verdicts[11]  # t=55: 30 s after the look the broker could not answer (t=25)


def test_the_watchdog_reports_a_stall_once_and_stops():
    clock = {"now": 0.0}
    stalls: list[str] = []
    looked = threading.Event()

    def sample() -> Sample:
        clock["now"] += 10.0  # each look is 10 s after the one before
        looked.set()
        return Sample(waiting=3, free_slots=1, received=7)

    dog = Watchdog(sample, 30.0, stalls.append, interval=0.01, clock=lambda: clock["now"])
    thread = dog.start()
    wait_until(lambda: not thread.is_alive(), 10, "the watchdog to report the stall and stop")
    assert len(stalls) == 1
    assert "3 message(s) waited" in stalls[0]
    assert "consumer is stalled" in stalls[0]
    assert clock["now"] == 40.0  # looks at 10, 20, 30, 40: idle since 10, stalled at 40


def test_a_stalled_worker_fails_its_liveness_and_readiness():
    state = ProbeState("workflow", readiness=dict)
    state.started.set()
    server = serve_probes("127.0.0.1", free_port(), state)
    assert server is not None
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert requests.get(f"{base}/healthz/live", timeout=5).status_code == 200
        assert requests.get(f"{base}/healthz/ready", timeout=5).status_code == 200
        state.fail("stalled consumer: 3 message(s) waited")
        for path in ("live", "ready", "startup"):
            answer = requests.get(f"{base}/healthz/{path}", timeout=5)
            assert answer.status_code == 503
            assert answer.json()["failing"] == {"process": "stalled consumer: 3 message(s) waited"}
    finally:
        server.shutdown()
        server.server_close()
