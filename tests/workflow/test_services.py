"""The saga (fabrikam.apps.workflow.services) in process, against fake services with the clients'
interface (tests/workflow/fakes.py) and the real saga store (Redis): each operation, each step
failing transiently and permanently, redelivery and replay, compensation, and what the client
reads afterwards. tests/workflow/test_saga.py runs the same paths with real processes."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from redis.connection import AbstractConnection

from fabrikam.apps.workflow import repository, services
from fabrikam.apps.workflow.exceptions import Busy, LockLost, RetryLater
from fabrikam.apps.workflow.services import Status
from fabrikam.apps.workflow.tasks import handle_delivery_request
from tests.workflow.factories import DeliveryMessageFactory, cancel_message, reschedule_message
from tests.workflow.fakes import FakeServices, refused, shed, transient

pytestmark = [pytest.mark.redis]

STEPS = ("put_package", "assign_drone", "put_delivery")


@pytest.fixture(autouse=True)
def saga_settings(settings):
    settings.WORKFLOW_RETRY_BASE_DELAY = 2.0
    settings.WORKFLOW_RETRY_MAX_DELAY = 60.0
    settings.WORKFLOW_MAX_ATTEMPTS = 10
    settings.WORKFLOW_NO_DRONE_DEADLINE_SECONDS = 900.0
    return settings


@pytest.fixture
def fake(monkeypatch, redis_store) -> FakeServices:
    services_ = FakeServices()
    monkeypatch.setattr(services, "clients", services_)
    return services_


def state(delivery_id: str) -> dict[str, str]:
    return repository.load(delivery_id)


def retried(message: dict, attempt: int = 0) -> RetryLater:
    with pytest.raises(RetryLater) as raised:
        services.handle(message, attempt)
    return raised.value


def scheduled(fake: FakeServices) -> tuple[dict, services.Outcome]:
    message = DeliveryMessageFactory()
    outcome = services.handle(message)
    assert outcome.status == Status.COMPLETED
    return message, outcome


# --- delivery: the happy path, redelivery, replay ---
def test_a_delivery_stores_one_package_one_drone_and_one_delivery(fake):
    message = DeliveryMessageFactory()

    outcome = services.handle(message)

    assert outcome == services.Outcome(Status.COMPLETED, drone_id="drone-1")
    package = fake.packages[message["packageInfo"]["packageId"]]
    assert package["deliveryState"] == "InDelivery"
    assert fake.busy_drones() == ["drone-1"]
    delivery = fake.deliveries[message["deliveryId"]]
    assert (delivery["stage"], delivery["droneId"]) == ("Created", "drone-1")
    assert delivery["pickupETA"] == "2026-12-03T10:05:00Z"


def test_a_delivery_takes_two_redis_round_trips(fake, monkeypatch):
    # the lock with the state and the first attempt's time with running; every step's mark (the
    # package's, the drone with its ETAs, kept and not read back) with completed and the release
    sent = []
    send = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return send(self, command, check_health)

    services.handle(DeliveryMessageFactory())  # the server loads the scripts once
    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    message = DeliveryMessageFactory()

    assert services.handle(message).status == Status.COMPLETED

    assert len(sent) == 2
    assert all(b"EVALSHA" in command[0] for command in sent)  # never the script's text
    assert state(message["deliveryId"])["packageDone"] == "1"
    assert state(message["deliveryId"])["deliveryDone"] == "1"
    assert fake.deliveries[message["deliveryId"]]["pickupETA"] == "2026-12-03T10:05:00Z"


def test_waiting_for_a_drone_does_not_put_the_package_again(fake):
    fake.drones = []
    message = DeliveryMessageFactory()
    retried(message)
    fake.drones = ["drone-1"]

    assert services.handle(message, 1).status == Status.COMPLETED
    assert fake.calls["put_package"] == 1
    assert fake.calls["assign_drone"] == 2


def test_a_retry_after_a_transient_failure_does_not_put_the_package_again(fake):
    message = DeliveryMessageFactory()
    fake.fail("assign_drone", transient("assign_drone"), times=1)
    retried(message)

    assert services.handle(message, 1).status == Status.COMPLETED
    assert fake.calls["put_package"] == 1


def test_a_worker_dying_before_the_package_was_recorded_puts_it_again_to_the_same_end(fake):
    # The package's mark is written with the drone: a worker killed in between (the message comes
    # back) repeats the idempotent PUT.
    message = DeliveryMessageFactory()
    fake.fail("assign_drone", SystemExit("killed"), times=1)
    with pytest.raises(SystemExit):
        services.handle(message)

    assert services.handle(message, 1).status == Status.COMPLETED
    assert fake.calls["put_package"] == 2
    assert list(fake.packages) == [message["packageInfo"]["packageId"]]
    assert fake.packages[message["packageInfo"]["packageId"]]["deliveryState"] == "InDelivery"
    assert state(message["deliveryId"])["packageDone"] == "1"


def test_a_worker_dying_after_the_assignment_gets_the_same_drone_on_the_retry(fake):
    # The drone and its ETAs are written with the saga's next write: a worker killed before it
    # (the message comes back) asks for the drone again, idempotently by delivery id.
    message = DeliveryMessageFactory()
    fake.drones = ["drone-1", "drone-2"]
    fake.fail("put_delivery", SystemExit("killed"), times=1)
    with pytest.raises(SystemExit):
        services.handle(message)
    assert "droneId" not in state(message["deliveryId"])

    assert services.handle(message, 1) == services.Outcome(Status.COMPLETED, drone_id="drone-1")
    assert fake.calls["assign_drone"] == 2
    assert fake.busy_drones() == ["drone-1"]
    assert fake.deliveries[message["deliveryId"]]["droneId"] == "drone-1"
    assert state(message["deliveryId"])["droneId"] == "drone-1"
    assert state(message["deliveryId"])["pickupETA"] == "2026-12-03T10:05:00Z"


def test_a_cancel_after_a_worker_died_before_recording_its_drone_releases_the_drone(fake):
    # The lock wrote `running` and what a cancel needs before any step; the drone was assigned
    # but not recorded when the worker died, and the undo releases it by the delivery's id.
    message = DeliveryMessageFactory()
    delivery_id = message["deliveryId"]
    fake.fail("put_delivery", SystemExit("killed"), times=1)
    with pytest.raises(SystemExit):
        services.handle(message)
    assert fake.busy_drones() == ["drone-1"]
    assert state(delivery_id)["status"] == Status.RUNNING
    assert "droneId" not in state(delivery_id)

    outcome = services.handle(cancel_message(delivery_id))
    again = services.handle(message, 1)  # the create's redelivery

    assert outcome == again == services.Outcome(Status.CANCELLED, "cancelled by the client")
    assert fake.busy_drones() == []
    assert fake.packages[message["packageInfo"]["packageId"]]["deliveryState"] == "NotInDelivery"
    shown = fake.deliveries[delivery_id]
    assert (shown["stage"], shown["reason"]) == ("Cancelled", "cancelled by the client")
    assert fake.calls["assign_drone"] == 1


def test_a_compensation_after_an_unrecorded_assignment_releases_the_drone_and_records_it(fake):
    message = DeliveryMessageFactory()
    fake.fail("put_delivery", refused("put_delivery", 400, "validation"), times=1)

    outcome = services.handle(message)

    assert outcome.status == Status.COMPENSATED
    assert fake.busy_drones() == []
    assert fake.calls["release_drone"] == 1
    assert state(message["deliveryId"])["droneId"] == "drone-1"  # the marks, with the undo's
    assert state(message["deliveryId"])["packageDone"] == "1"


@pytest.mark.parametrize(
    "found",
    [
        {"status": Status.COMPLETED, "deliveryDone": "1"},
        {"status": Status.COMPENSATED, "reason": "refused", "shown": "1"},
        {"status": Status.CANCELLED, "reason": "cancelled before it was scheduled"},
        {"status": Status.COMPENSATING, "reason": "refused"},
        {"cancelRequested": "1"},  # a cancel that died before its own next write
        {"status": Status.RUNNING, "cancelRequested": "1"},
    ],
    ids=["completed", "compensated", "cancelled", "compensating", "cancel-new", "cancel-running"],
)
def test_the_lock_writes_a_delivery_as_running_only_when_it_is_new_or_running(fake, found):
    message = DeliveryMessageFactory()
    delivery_id = message["deliveryId"]
    repository.update(delivery_id, **found)

    with contextlib.suppress(RetryLater):
        services.handle(message)

    after = state(delivery_id)
    assert "firstAttemptAt" not in after
    assert "request" not in after
    assert after.get("status") != Status.RUNNING
    assert fake.calls["put_package"] == fake.calls["assign_drone"] == 0


def test_the_lock_keeps_the_first_attempts_time_of_a_running_delivery(fake):
    fake.drones = []
    message = DeliveryMessageFactory()
    retried(message)
    first = state(message["deliveryId"])["firstAttemptAt"]
    fake.drones = ["drone-1"]

    assert services.handle(message, 1).status == Status.COMPLETED
    assert state(message["deliveryId"])["firstAttemptAt"] == first
    assert state(message["deliveryId"])["ownerId"] == message["ownerId"]


def test_a_redelivered_completed_delivery_calls_nothing_again(fake):
    message, first = scheduled(fake)
    calls = dict(fake.calls)

    assert services.handle(message) == first
    assert dict(fake.calls) == calls


def test_a_replay_after_a_crash_finds_its_delivery_already_completed_and_completes(fake):
    # The worker died after its delivery PUT landed and before it marked the step done; by the
    # time the message comes back the drone has delivered, so the PUT is refused as closed.
    message, first = scheduled(fake)
    delivery_id = message["deliveryId"]
    repository.update(delivery_id, status=Status.RUNNING, deliveryDone="")
    fake.deliveries[delivery_id]["stage"] = "Completed"

    outcome = services.handle(message, 1)

    assert outcome == first
    assert state(delivery_id)["status"] == Status.COMPLETED
    assert fake.deliveries[delivery_id]["stage"] == "Completed"
    assert fake.calls["release_drone"] == 0


def test_a_replay_that_finds_its_delivery_cancelled_is_compensated(fake):
    message, _ = scheduled(fake)
    delivery_id = message["deliveryId"]
    repository.update(delivery_id, status=Status.RUNNING, deliveryDone="")
    fake.deliveries[delivery_id]["stage"] = "Cancelled"

    outcome = services.handle(message, 1)

    assert outcome.status != Status.COMPLETED
    assert fake.calls["release_drone"] == 1


@pytest.mark.parametrize("step", STEPS)
def test_a_step_failing_transiently_is_retried_and_the_steps_before_it_are_not_redone(fake, step):
    message = DeliveryMessageFactory()
    fake.fail(step, transient(step), times=2)

    first, second = retried(message, 0), retried(message, 1)
    outcome = services.handle(message, 2)

    assert first.counts
    assert second.counts
    assert first.countdown <= 2.0 < second.countdown  # backs off with the attempt
    assert outcome.status == Status.COMPLETED
    assert fake.calls[step] == 3
    for before in STEPS[: STEPS.index(step)]:
        assert fake.calls[before] == 1
    assert fake.busy_drones() == [outcome.drone_id]
    assert fake.deliveries[message["deliveryId"]]["events"] == ["Created"]


@pytest.mark.parametrize(
    ("step", "status"), [("put_package", 422), ("assign_drone", 400), ("put_delivery", 422)]
)
def test_a_step_refused_compensates_the_steps_before_it_and_shows_why(fake, step, status):
    message = DeliveryMessageFactory()
    fake.fail(step, refused(step, status), times=1)

    outcome = services.handle(message)

    assert outcome.status == Status.COMPENSATED
    assert outcome.reason == f"{transient(step).service} refused: {step} refused it"
    assert fake.busy_drones() == []
    package = fake.packages.get(message["packageInfo"]["packageId"])
    assert package is None or package["deliveryState"] == "NotInDelivery"
    shown = fake.deliveries[message["deliveryId"]]
    assert (shown["stage"], shown["reason"]) == ("Cancelled", outcome.reason)
    assert state(message["deliveryId"])["status"] == Status.COMPENSATED


def test_a_compensation_that_fails_transiently_finishes_on_the_next_try(fake):
    message = DeliveryMessageFactory()
    fake.fail("put_delivery", refused("put_delivery", 422), times=1)
    fake.fail("release_drone", transient("release_drone"), times=1)

    pending = retried(message)
    assert state(message["deliveryId"])["status"] == Status.COMPENSATING
    outcome = services.handle(message, 1)

    assert not pending.counts  # an undo is retried until it has run, never dropped
    assert outcome.status == Status.COMPENSATED
    assert fake.busy_drones() == []
    assert fake.deliveries[message["deliveryId"]]["stage"] == "Cancelled"


def test_a_delivery_that_cannot_be_shown_still_ends_compensated(fake):
    message = DeliveryMessageFactory()
    fake.fail("put_delivery", refused("put_delivery", 422))  # every PUT, the closing one too

    outcome = services.handle(message)

    assert outcome.status == Status.COMPENSATED
    assert message["deliveryId"] not in fake.deliveries
    assert "put_delivery" in state(message["deliveryId"])["shownError"]


def test_giving_up_on_a_delivery_undoes_it_and_a_replay_schedules_it_afresh(fake):
    message = DeliveryMessageFactory()
    fake.fail("put_package", transient("put_package"))
    retried(message)

    services.give_up(message, "gave up after 10 attempts: unavailable")
    assert fake.calls["cancel_delivery"] == fake.calls["release_drone"] == 1
    assert message["deliveryId"] not in fake.deliveries  # not shown: a replay must create it
    assert services.handle(message, 11).status == Status.COMPENSATED  # a late redelivery

    fake.heal()
    outcome = services.handle(message, 0, replayed=True)

    assert outcome.status == Status.COMPLETED
    assert fake.deliveries[message["deliveryId"]]["stage"] == "Created"
    assert fake.busy_drones() == [outcome.drone_id]


# --- waiting for a drone (defect 2) and unserviceable requests (defect 3) ---
def test_waiting_for_a_drone_does_not_count_as_an_attempt_and_backs_off(fake):
    fake.drones = []
    message = DeliveryMessageFactory()

    waits = [retried(message, 0) for _ in range(6)]

    assert not any(wait.counts for wait in waits)
    assert waits[0].countdown <= 2.0
    assert waits[5].countdown >= 30.0  # 2 s doubling, capped at 60 s, jitter 50-100 %
    assert state(message["deliveryId"])["status"] == Status.RUNNING


def test_a_delivery_waiting_for_a_drone_is_not_dead_lettered_by_the_attempt_cap(fake, settings):
    fake.drones = []
    message = DeliveryMessageFactory()

    with pytest.raises(RetryLater) as raised:
        handle_delivery_request(message, attempt=settings.WORKFLOW_MAX_ATTEMPTS - 1)

    assert not raised.value.counts
    assert state(message["deliveryId"])["status"] == Status.RUNNING


def test_the_last_wait_for_a_drone_lands_at_the_deadline(fake, settings):
    fake.drones = []
    message = DeliveryMessageFactory()
    repository.update(message["deliveryId"], firstAttemptAt=time.time() - 899.0)

    wait = retried(message)

    assert wait.countdown <= 1.0


def test_no_drone_within_the_deadline_compensates_and_shows_why(fake, settings):
    settings.WORKFLOW_NO_DRONE_DEADLINE_SECONDS = 900.0
    fake.drones = []
    message = DeliveryMessageFactory()
    retried(message)
    repository.update(message["deliveryId"], firstAttemptAt=time.time() - 901.0)

    outcome = services.handle(message, 0)

    assert outcome == services.Outcome(Status.COMPENSATED, "no drone became available within 900s")
    assert fake.packages[message["packageInfo"]["packageId"]]["deliveryState"] == "NotInDelivery"
    shown = fake.deliveries[message["deliveryId"]]
    assert (shown["stage"], shown["reason"]) == ("Cancelled", outcome.reason)


def test_an_unserviceable_request_is_compensated_at_once_and_the_client_reads_why(fake):
    message = DeliveryMessageFactory(packageInfo__weight=14.0)
    detail = "No drone of the fleet can carry 14 kg (Small)"
    fake.fail("assign_drone", refused("assign_drone", 422, "unserviceable", detail))

    outcome = services.handle(message)

    assert outcome == services.Outcome(Status.COMPENSATED, f"unserviceable: {detail}")
    assert fake.calls["assign_drone"] == 1
    assert fake.packages[message["packageInfo"]["packageId"]]["deliveryState"] == "NotInDelivery"
    shown = fake.deliveries[message["deliveryId"]]
    assert (shown["stage"], shown["reason"]) == ("Cancelled", f"unserviceable: {detail}")
    assert shown["events"] == ["Created", "Cancelled"]


# --- cancel (defects 4 and 5) ---
def test_cancelling_a_scheduled_delivery_releases_everything_and_keeps_the_reason(fake):
    message, _ = scheduled(fake)
    delivery_id = message["deliveryId"]

    outcome = services.handle(cancel_message(delivery_id))

    assert outcome == services.Outcome(Status.CANCELLED, "cancelled by the client")
    assert fake.busy_drones() == []
    assert fake.packages[message["packageInfo"]["packageId"]]["deliveryState"] == "NotInDelivery"
    cancelled = fake.deliveries[delivery_id]
    assert (cancelled["stage"], cancelled["reason"]) == ("Cancelled", "cancelled by the client")
    assert state(delivery_id)["cancelOutcome"] == "done"
    assert services.handle(message).status == Status.CANCELLED  # a late redelivery


def test_a_delivery_cancelled_while_it_waits_for_a_drone_is_shown_cancelled(fake):
    fake.drones = []
    message = DeliveryMessageFactory()
    delivery_id = message["deliveryId"]
    retried(message)

    outcome = services.handle(cancel_message(delivery_id))
    fake.drones = ["drone-1"]
    again = services.handle(message, 1)  # the delivery's next retry

    assert outcome.status == again.status == Status.CANCELLED
    shown = fake.deliveries[delivery_id]
    assert (shown["stage"], shown["reason"]) == ("Cancelled", "cancelled by the client")
    assert shown["events"] == ["Created", "Cancelled"]
    assert fake.calls["assign_drone"] == 1
    assert fake.packages[message["packageInfo"]["packageId"]]["deliveryState"] == "NotInDelivery"


def test_a_cancel_before_its_create_makes_the_create_show_it_cancelled_and_do_nothing(fake):
    message = DeliveryMessageFactory()
    delivery_id = message["deliveryId"]

    services.handle(cancel_message(delivery_id))
    outcome = services.handle(message)

    assert outcome.status == Status.CANCELLED
    assert fake.calls["put_package"] == fake.calls["assign_drone"] == 0
    shown = fake.deliveries[delivery_id]
    assert (shown["stage"], shown["reason"]) == ("Cancelled", "cancelled before it was scheduled")


def test_showing_an_early_cancel_that_fails_transiently_is_retried(fake):
    message = DeliveryMessageFactory()
    services.handle(cancel_message(message["deliveryId"]))
    fake.fail("put_delivery", transient("put_delivery"), times=1)

    assert not retried(message).counts  # the request has ended: showing it is never dropped
    assert services.handle(message, 1).status == Status.CANCELLED
    assert fake.deliveries[message["deliveryId"]]["stage"] == "Cancelled"


def test_a_cancel_whose_undo_did_not_finish_is_finished_by_whichever_message_comes_next(fake):
    message = DeliveryMessageFactory()
    delivery_id = message["deliveryId"]
    fake.fail("put_delivery", transient("put_delivery"), times=1)
    retried(message)  # package stored, drone assigned, the delivery not yet
    fake.fail("release_drone", transient("release_drone"), times=1)
    retried(cancel_message(delivery_id))

    outcome = services.handle(message, 1)

    assert outcome == services.Outcome(Status.CANCELLED, "cancelled by the client")
    assert fake.busy_drones() == []
    shown = fake.deliveries[delivery_id]
    assert (shown["stage"], shown["reason"]) == ("Cancelled", "cancelled by the client")
    assert services.handle(cancel_message(delivery_id), 1).status == Status.CANCELLED


def test_a_cancel_retried_while_the_delivery_finishes_its_undo_still_cancels(fake):
    message = DeliveryMessageFactory()
    delivery_id = message["deliveryId"]
    fake.fail("put_delivery", transient("put_delivery"), times=1)
    retried(message)
    fake.fail("release_drone", transient("release_drone"), times=2)
    retried(cancel_message(delivery_id))
    retried(message, 1)  # the delivery took over the undo, and it failed too

    outcome = services.handle(cancel_message(delivery_id), 1)

    assert outcome == services.Outcome(Status.CANCELLED, "cancelled by the client")
    assert state(delivery_id)["cancelOutcome"] == "done"
    assert fake.busy_drones() == []


def test_a_cancel_failing_transiently_backs_off_with_its_attempts(fake):
    message, _ = scheduled(fake)
    fake.fail("cancel_delivery", transient("cancel_delivery"))
    cancel = cancel_message(message["deliveryId"])

    first, sixth = retried(cancel, 0), retried(cancel, 6)

    assert first.counts
    assert sixth.counts
    assert first.countdown <= 2.0
    assert sixth.countdown >= 30.0


def test_a_refused_cancel_is_recorded_and_leaves_the_delivery_scheduled(fake):
    message, _ = scheduled(fake)
    delivery_id = message["deliveryId"]
    fake.deliveries[delivery_id]["stage"] = "Completed"  # handed over already

    outcome = services.handle(cancel_message(delivery_id))

    assert outcome.status == "refused"
    assert state(delivery_id)["status"] == Status.COMPLETED
    assert state(delivery_id)["cancelOutcome"] == "refused"
    assert "answered 409" in state(delivery_id)["cancelReason"]


def test_cancelling_a_compensated_delivery_keeps_its_compensation(fake):
    message = DeliveryMessageFactory()
    fake.fail("assign_drone", refused("assign_drone", 422, "unserviceable", "too heavy"))
    services.handle(message)

    outcome = services.handle(cancel_message(message["deliveryId"]))

    assert outcome.status == "refused"
    assert state(message["deliveryId"])["status"] == Status.COMPENSATED
    assert fake.deliveries[message["deliveryId"]]["reason"] == "unserviceable: too heavy"


def test_giving_up_on_a_cancel_records_it_and_leaves_the_delivery_as_it_was(fake):
    message, _ = scheduled(fake)
    delivery_id = message["deliveryId"]

    services.give_up(cancel_message(delivery_id), "gave up after 10 attempts: unavailable")

    assert state(delivery_id)["status"] == Status.COMPLETED
    assert state(delivery_id)["cancelOutcome"] == "failed"
    assert fake.deliveries[delivery_id]["stage"] == "Created"


# --- reschedule (defect 1) ---
NEW_DROPOFF = {"latitude": 47.63, "longitude": -122.36, "altitude": 0.0}


def test_a_reschedule_moves_the_delivery_and_re_plans_the_drone(fake):
    message, _ = scheduled(fake)
    delivery_id = message["deliveryId"]

    outcome = services.handle(reschedule_message(delivery_id, dropoff=NEW_DROPOFF))

    assert outcome == services.Outcome(Status.COMPLETED, "rescheduled")
    assert fake.deliveries[delivery_id]["dropoff"] == NEW_DROPOFF
    assert fake.assignments[delivery_id]["route"]["dropoff"] == NEW_DROPOFF
    assert state(delivery_id)["rescheduleOutcome"] == "done"


@pytest.mark.parametrize("step", ["reschedule_delivery", "replan_drone"])
def test_a_reschedule_step_failing_transiently_is_retried(fake, step):
    message, _ = scheduled(fake)
    fake.fail(step, transient(step), times=1)
    reschedule = reschedule_message(message["deliveryId"], dropoff=NEW_DROPOFF)

    assert retried(reschedule).counts
    assert services.handle(reschedule, 1).reason == "rescheduled"


@pytest.mark.parametrize("step", ["reschedule_delivery", "replan_drone"])
def test_a_refused_reschedule_says_why_and_leaves_the_delivery_scheduled(fake, step):
    message, _ = scheduled(fake)
    delivery_id = message["deliveryId"]
    fake.fail(step, refused(step, 409, "delivery-not-replannable"))

    outcome = services.handle(reschedule_message(delivery_id, dropoff=NEW_DROPOFF))

    assert outcome.status == "refused"
    assert state(delivery_id)["status"] == Status.COMPLETED
    assert state(delivery_id)["rescheduleOutcome"] == "refused"
    assert "answered 409" in state(delivery_id)["rescheduleReason"]
    assert fake.busy_drones() == [fake.deliveries[delivery_id]["droneId"]]


def test_a_reschedule_given_up_leaves_a_scheduled_delivery_scheduled(fake):
    message, first = scheduled(fake)
    delivery_id = message["deliveryId"]
    reschedule = reschedule_message(delivery_id, dropoff=NEW_DROPOFF)
    fake.fail("reschedule_delivery", transient("reschedule_delivery"))
    retried(reschedule, 9)

    services.give_up(reschedule, "gave up after 10 attempts: unavailable")

    assert state(delivery_id)["status"] == Status.COMPLETED
    assert state(delivery_id)["rescheduleOutcome"] == "failed"
    assert state(delivery_id)["rescheduleReason"] == "gave up after 10 attempts: unavailable"
    assert fake.deliveries[delivery_id]["stage"] == "Created"
    assert fake.busy_drones() == [first.drone_id]
    assert services.handle(message) == first


def test_a_reschedule_given_up_while_its_delivery_waits_does_not_end_the_delivery(fake):
    fake.drones = []
    message = DeliveryMessageFactory()
    delivery_id = message["deliveryId"]
    retried(message)

    services.give_up(reschedule_message(delivery_id, dropoff=NEW_DROPOFF), "gave up: unavailable")
    fake.drones = ["drone-1"]
    outcome = services.handle(message, 1)

    assert outcome.status == Status.COMPLETED
    assert fake.deliveries[delivery_id]["stage"] == "Created"
    assert fake.packages[message["packageInfo"]["packageId"]]["deliveryState"] == "InDelivery"


def test_a_reschedule_waits_for_its_delivery_without_counting_attempts(fake):
    fake.drones = []
    message = DeliveryMessageFactory()
    retried(message)

    wait = retried(reschedule_message(message["deliveryId"], dropoff=NEW_DROPOFF), 9)

    assert not wait.counts


def test_a_reschedule_before_its_create_waits_while_the_create_may_still_be_redelivered(fake):
    # Its create can be held by a worker that died until the broker's visibility timeout: the
    # reschedule must not spend its attempts meanwhile (it would be dead-lettered before it).
    reschedule = reschedule_message("not-seen-yet", dropoff=NEW_DROPOFF)

    waits = [retried(reschedule, 9) for _ in range(3)]

    assert not any(wait.counts for wait in waits)
    assert state("not-seen-yet")["rescheduleWaits"] == "3"


def test_a_reschedule_whose_create_never_came_counts_its_attempts_after_the_grace(fake, settings):
    reschedule = reschedule_message("not-seen-yet", dropoff=NEW_DROPOFF)
    grace = settings.BROKER_VISIBILITY_TIMEOUT + settings.WORKFLOW_RETRY_MAX_DELAY
    repository.update("not-seen-yet", rescheduleFirstAt=time.time() - grace - 1)

    assert retried(reschedule).counts


def test_a_reschedule_that_waited_for_its_create_applies_once_the_create_ran(fake):
    message = DeliveryMessageFactory()
    reschedule = reschedule_message(message["deliveryId"], dropoff=NEW_DROPOFF)
    retried(reschedule)

    services.handle(message)
    outcome = services.handle(reschedule)

    assert outcome == services.Outcome(Status.COMPLETED, "rescheduled")
    assert fake.deliveries[message["deliveryId"]]["dropoff"] == NEW_DROPOFF
    assert state(message["deliveryId"])["rescheduleOutcome"] == "done"
    assert state(message["deliveryId"])["rescheduleFirstAt"] == ""  # its deadline ended with it


@pytest.mark.parametrize("ending", ["cancel", "unserviceable"])
def test_a_reschedule_of_an_ended_delivery_is_refused(fake, ending):
    message = DeliveryMessageFactory()
    if ending == "cancel":
        services.handle(message)
        services.handle(cancel_message(message["deliveryId"]))
    else:
        fake.fail("assign_drone", refused("assign_drone", 422, "unserviceable"))
        services.handle(message)

    outcome = services.handle(reschedule_message(message["deliveryId"], dropoff=NEW_DROPOFF))

    assert outcome.status == "refused"
    assert fake.calls["reschedule_delivery"] == 0


# --- the task's decisions ---
def test_the_task_dead_letters_a_reschedule_whose_attempts_ran_out_and_keeps_the_delivery(
    fake, settings
):
    message, first = scheduled(fake)
    delivery_id = message["deliveryId"]
    fake.fail("reschedule_delivery", transient("reschedule_delivery"))
    reschedule = reschedule_message(delivery_id, dropoff=NEW_DROPOFF)

    result = handle_delivery_request(reschedule, attempt=settings.WORKFLOW_MAX_ATTEMPTS - 1)

    assert result == "dead-lettered"
    assert state(delivery_id)["status"] == Status.COMPLETED
    assert state(delivery_id)["rescheduleOutcome"] == "failed"
    assert fake.busy_drones() == [first.drone_id]


def test_a_lock_held_by_another_worker_is_a_retry_that_does_not_count_and_comes_back_soon(fake):
    # The holder renews its lock while it works, so the lock's time to live says nothing about
    # when it is done: come back after a short delay, not when the lock would expire.
    message = DeliveryMessageFactory()
    with repository.locked(message["deliveryId"], 60):
        busy = retried(message)

    assert not busy.counts
    assert busy.countdown <= 2.5  # WORKFLOW_RETRY_BASE_DELAY + jitter


# --- a downstream outage only delays (shed calls) ---
def test_a_call_shed_by_an_open_breaker_waits_without_spending_an_attempt(fake, settings):
    message = DeliveryMessageFactory()
    fake.fail("assign_drone", shed("assign_drone"))

    with pytest.raises(RetryLater) as raised:
        handle_delivery_request(message, attempt=settings.WORKFLOW_MAX_ATTEMPTS - 1)
    waits = [raised.value, *(retried(message, settings.WORKFLOW_MAX_ATTEMPTS) for _ in range(5))]

    assert not any(wait.counts for wait in waits)
    assert waits[0].countdown <= 2.0
    assert waits[5].countdown >= 30.0  # backs off like any wait, up to WORKFLOW_RETRY_MAX_DELAY
    assert state(message["deliveryId"])["status"] == Status.RUNNING
    fake.heal()
    assert services.handle(message, settings.WORKFLOW_MAX_ATTEMPTS).status == Status.COMPLETED


@pytest.mark.parametrize("operation", ["cancel", "reschedule"])
def test_a_cancel_or_reschedule_shed_waits_without_spending_an_attempt(fake, operation):
    message, _ = scheduled(fake)
    delivery_id = message["deliveryId"]
    if operation == "cancel":
        call, later = "cancel_delivery", cancel_message(delivery_id)
    else:
        call, later = "reschedule_delivery", reschedule_message(delivery_id, dropoff=NEW_DROPOFF)
    fake.fail(call, shed(call))

    wait = retried(later, 3)

    assert not wait.counts
    fake.heal()
    assert services.handle(later, 3).status in (Status.CANCELLED, Status.COMPLETED)
    assert state(delivery_id)[f"{operation}Outcome"] == "done"


def test_a_delivery_still_shed_at_its_deadline_is_given_up_undone_and_dead_lettered(fake, settings):
    message = DeliveryMessageFactory()
    fake.fail("put_delivery", shed("put_delivery"))
    retried(message)  # package stored, drone assigned, the delivery service known down
    repository.update(message["deliveryId"], firstAttemptAt=time.time() - 901.0)

    result = handle_delivery_request(message, attempt=0)

    assert result == "dead-lettered"
    saga = state(message["deliveryId"])
    assert saga["status"] == Status.COMPENSATED
    assert "still unavailable 900s after the request" in saga["reason"]
    assert fake.packages[message["packageInfo"]["packageId"]]["deliveryState"] == "NotInDelivery"
    assert fake.busy_drones() == []


def test_a_give_up_whose_undo_is_shed_retries_the_undo_until_the_package_is_released(
    fake, settings
):
    message = DeliveryMessageFactory()
    package_id = message["packageInfo"]["packageId"]
    fake.fail("put_delivery", transient("put_delivery"))  # a service failing: attempts run out
    retried(message)
    fake.fail("release_drone", shed("release_drone"), times=2)  # ...and then known down

    with pytest.raises(RetryLater) as first:
        handle_delivery_request(message, attempt=settings.WORKFLOW_MAX_ATTEMPTS - 1)
    with pytest.raises(RetryLater) as second:
        handle_delivery_request(message, attempt=settings.WORKFLOW_MAX_ATTEMPTS)
    assert fake.packages[package_id]["deliveryState"] == "InDelivery"  # not dropped: pending
    assert state(message["deliveryId"])["status"] == Status.COMPENSATING
    result = handle_delivery_request(message, attempt=settings.WORKFLOW_MAX_ATTEMPTS)

    assert not first.value.counts
    assert first.value.countdown <= 2.0 < second.value.countdown  # backs off
    assert result == "dead-lettered"
    assert fake.packages[package_id]["deliveryState"] == "NotInDelivery"
    assert fake.busy_drones() == []
    assert state(message["deliveryId"])["status"] == Status.COMPENSATED
    assert message["deliveryId"] not in fake.deliveries  # unshown: a replay can still create it
    assert services.handle(message, 11).status == Status.COMPENSATED  # a late redelivery


# --- the delivery's lock: short, renewed while the saga works, fenced ---
def test_the_lock_is_renewed_while_a_slow_step_runs(fake, settings, monkeypatch):
    settings.WORKFLOW_LOCK_SECONDS = 0.3
    message = DeliveryMessageFactory()
    put_package = fake.put_package
    other_worker = []

    def slow_put_package(package_id: str, body: dict) -> None:
        time.sleep(1.0)  # a slow downstream call, three times the lock's time to live
        with pytest.raises(RetryLater) as busy:
            services.handle(message, 0)
        other_worker.append(busy.value)
        put_package(package_id, body)

    monkeypatch.setattr(fake, "put_package", slow_put_package)

    outcome = services.handle(message)

    assert outcome.status == Status.COMPLETED
    assert "another worker" in other_worker[0].reason
    assert fake.calls["assign_drone"] == 1


def test_a_worker_whose_lock_lapsed_cannot_write_over_the_worker_that_took_over(fake, monkeypatch):
    # A worker stalls mid-step (a long pause) past its lock; the broker hands the message to
    # another worker, which takes the lapsed lock and finishes the saga. The stale worker's
    # writes are then refused and it only retries; the new owner's record stands. (Its steps'
    # marks travel with its last write, so it repeats the idempotent steps before that write is
    # refused: the same drone, the same delivery.)
    message = DeliveryMessageFactory()
    lock_key = repository._key("lock", message["deliveryId"])
    put_package = fake.put_package
    taken_over = []

    def stalled_put_package(package_id: str, body: dict) -> None:
        put_package(package_id, body)
        repository._redis().delete(lock_key)  # the stale worker's lock lapsed while it stalled
        monkeypatch.setattr(fake, "put_package", put_package)
        taken_over.append(services.handle(message, 0))  # another worker takes over

    monkeypatch.setattr(fake, "put_package", stalled_put_package)

    stale = retried(message)

    assert taken_over[0].status == Status.COMPLETED
    assert not stale.counts
    assert "lost the lock" in stale.reason
    assert state(message["deliveryId"])["status"] == Status.COMPLETED
    assert state(message["deliveryId"])["droneId"] == taken_over[0].drone_id
    assert fake.calls["assign_drone"] == 2  # the new owner's, then the stale worker's repeat
    assert list(fake.assignments) == [message["deliveryId"]]
    assert fake.busy_drones() == [taken_over[0].drone_id]
    assert fake.calls["put_delivery"] == 2  # the same: the drone, once
    assert fake.deliveries[message["deliveryId"]]["droneId"] == taken_over[0].drone_id
    assert fake.deliveries[message["deliveryId"]]["events"] == ["Created"]


def test_a_worker_stalled_past_its_lock_does_not_put_back_a_route_rescheduled_since(
    fake, monkeypatch, settings
):
    # A worker stalls (a frozen process: its lock is not renewed either) before the delivery PUT;
    # another worker takes over and completes the delivery, and the client reschedules it. The
    # stale worker resumes: its PUT would put back the old route, so it checks its lock first.
    message = DeliveryMessageFactory()
    delivery_id = message["deliveryId"]
    lock_key = repository._key("lock", delivery_id)
    put_package = fake.put_package
    now = [1000.0]
    monkeypatch.setattr(repository, "_clock", lambda: now[0])

    def stalled_put_package(package_id: str, body: dict) -> None:
        put_package(package_id, body)
        now[0] += settings.WORKFLOW_LOCK_SECONDS  # the stall: past the lock's time to live
        repository._redis().delete(lock_key)  # which lapsed meanwhile
        monkeypatch.setattr(fake, "put_package", put_package)
        assert services.handle(message, 0).status == Status.COMPLETED  # another worker
        services.handle(reschedule_message(delivery_id, dropoff=NEW_DROPOFF))

    monkeypatch.setattr(fake, "put_package", stalled_put_package)

    stale = retried(message)

    assert "lost the lock" in stale.reason
    assert not stale.counts
    assert fake.calls["put_delivery"] == 1  # the new owner's; the stale worker sent none
    assert fake.deliveries[delivery_id]["dropoff"] == NEW_DROPOFF
    assert state(delivery_id)["rescheduleOutcome"] == "done"


def test_a_lock_held_longer_than_half_its_time_is_checked_and_extended_before_the_put(
    fake, monkeypatch, settings
):
    # A slow step, not a lapse: the check finds the lock still this worker's and the saga goes on.
    message = DeliveryMessageFactory()
    put_package = fake.put_package
    now = [1000.0]
    monkeypatch.setattr(repository, "_clock", lambda: now[0])

    def slow_put_package(package_id: str, body: dict) -> None:
        put_package(package_id, body)
        now[0] += settings.WORKFLOW_LOCK_SECONDS * 0.6

    monkeypatch.setattr(fake, "put_package", slow_put_package)

    assert services.handle(message).status == Status.COMPLETED
    assert fake.calls["put_delivery"] == 1


def test_one_renewer_keeps_every_lock_held_in_the_process_alive(redis_store):
    # Two deliveries' locks held at once, in two threads, for three times their time to live:
    # the process's one renewal thread extends both, and the one released stays released.
    # Renewed every third of `ttl`: a second, so a loaded CI machine still renews in time.
    ttl = 1.0

    def other_worker_finds_busy(delivery_id: str) -> bool:
        try:
            with repository.locked(delivery_id, ttl):
                return False
        except Busy:
            return True

    holding, release, first_done = threading.Event(), threading.Event(), threading.Event()

    def hold_first() -> None:
        with repository.locked("d-first", ttl):
            holding.set()
            release.wait(30)  # a slow step, as long as the test needs
        first_done.set()

    holder = threading.Thread(target=hold_first)
    with repository.locked("d-second", ttl):
        holder.start()
        assert holding.wait(5)
        time.sleep(3 * ttl)  # three times the locks' time to live: only renewal keeps them
        assert other_worker_finds_busy("d-first")
        assert other_worker_finds_busy("d-second")
        release.set()
        assert first_done.wait(5)
        assert not other_worker_finds_busy("d-first")
        time.sleep(2 * ttl)  # two more times to live: the lock still held is still renewed
        assert other_worker_finds_busy("d-second")
    holder.join()
    assert not other_worker_finds_busy("d-second")


def test_a_lapsed_lock_refuses_its_holders_writes(redis_store):
    with repository.locked("d-lapsed", 5):
        repository.update("d-lapsed", status=Status.RUNNING)
        repository._redis().delete(repository._key("lock", "d-lapsed"))
        with repository.locked("d-lapsed", 5):  # the new owner
            repository.update("d-lapsed", status=Status.COMPLETED)
        with pytest.raises(LockLost):
            repository.update("d-lapsed", status=Status.COMPENSATING)

    assert repository.load("d-lapsed")["status"] == Status.COMPLETED
