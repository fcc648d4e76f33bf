"""The delivery saga and its compensation, cancel and reschedule.

Delivery: package PUT → drone assignment PUT → delivery PUT. Each step is idempotent by id and its
completion is recorded (repository), so a redelivered message resumes where the last attempt
stopped. A step that fails permanently undoes the earlier ones; a transient failure asks the caller
(the Celery task) to try again later with `RetryLater`, never by sleeping here.

The saga's `status` belongs to the delivery operation alone. A cancel or a reschedule records its
own outcome (`cancelOutcome`/`cancelReason`, `rescheduleOutcome`/`rescheduleReason`) and changes
the saga's status only when it succeeds (a cancel ends it): a failed reschedule never ends a
delivery.

Which rule ends a retry (README "Workflow"): waiting — for a free drone, or for a service the
circuit breaker knows is down (a shed call) — is bounded by the request's deadline,
WORKFLOW_NO_DRONE_DEADLINE_SECONDS from its first attempt, not by attempts (those waits do not
count); every other transient failure counts towards WORKFLOW_MAX_ATTEMPTS. A request no drone of
the fleet can ever serve (the scheduler's `unserviceable` problem) is compensated at once. An undo
that cannot run yet is retried with back-off until it has run: a compensation is never dropped.

A request that ends without being scheduled (cancelled while it waited, unserviceable, no drone
within the deadline, refused) is stored in the deliveries service as Cancelled with the reason, so
the client that was told 202 reads what became of it. Only a delivery dead-lettered after its
retries ran out is not: an operator may replay it, and a replay must be able to create it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings

from fabrikam.apps.workflow import clients, repository
from fabrikam.apps.workflow.exceptions import Busy, GivenUp, LockLost, RetryLater
from fabrikam.apps.workflow.messages import CANCEL, DELIVERY, RESCHEDULE
from fabrikam.contract.bodies import DeliveryPut, DroneAssignment, PackagePut
from fabrikam.contract.messages import DeliveryMessage
from fabrikam.contract.packages import DeliveryState
from fabrikam.interservice.http import PermanentError, TransientError
from fabrikam.interservice.resilience import backoff_delay

logger = logging.getLogger(__name__)

UNSERVICEABLE = "unserviceable"  # the drone scheduler's problem type (its last path segment)
CANCELLED_BY_CLIENT = "cancelled by the client"
CANCELLED_UNSCHEDULED = "cancelled before it was scheduled"


class Status(StrEnum):
    """The delivery saga's state."""

    RUNNING = "running"
    COMPLETED = "completed"
    COMPENSATING = "compensating"
    COMPENSATED = "compensated"
    CANCELLED = "cancelled"


FINAL = {Status.COMPLETED, Status.COMPENSATED, Status.CANCELLED}
ENDED_UNSCHEDULED = {Status.COMPENSATED, Status.CANCELLED}


class OperationOutcome(StrEnum):
    """What a cancel or reschedule did, recorded apart from the saga's state."""

    DONE = "done"
    REFUSED = "refused"  # a service said no, or the delivery had already ended
    FAILED = "failed"  # retries ran out; the message is dead-lettered


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: str = ""
    drone_id: str = ""


def _retry(reason: str, attempt: int, retry_after: float | None = None) -> RetryLater:
    countdown = backoff_delay(
        attempt + 1,
        settings.WORKFLOW_RETRY_BASE_DELAY,
        settings.WORKFLOW_RETRY_MAX_DELAY,
        min(retry_after or 0.0, settings.WORKFLOW_RETRY_MAX_DELAY),
    )
    return RetryLater(reason, countdown)


def _wait(delivery_id: str, counter: str, reason: str, at_most: float | None = None) -> RetryLater:
    """A retry that does not count towards WORKFLOW_MAX_ATTEMPTS (something else bounds it),
    backing off by how often this saga has waited so far."""
    waits = repository.increment(delivery_id, counter)
    countdown = backoff_delay(
        waits, settings.WORKFLOW_RETRY_BASE_DELAY, settings.WORKFLOW_RETRY_MAX_DELAY
    )
    if at_most is not None:
        countdown = max(0.1, min(countdown, at_most))
    return RetryLater(reason, countdown, counts=False)


def _transient(
    delivery_id: str, error: TransientError, attempt: int, started: float, counter: str
) -> RetryLater:
    """The retry a transient failure asks for. A call shed by an open circuit breaker or a full
    bulkhead (the service is known down or swamped) is a wait bounded by the request's deadline,
    not a spent attempt; past the deadline the request is given up at once."""
    if not error.shed:
        return _retry(str(error), attempt, error.retry_after)
    deadline = settings.WORKFLOW_NO_DRONE_DEADLINE_SECONDS
    left = deadline - (time.time() - started)
    if left > 0:
        return _wait(delivery_id, counter, f"waiting for {error.service}: {error.detail}", left)
    return RetryLater(
        f"{error.service} still unavailable {deadline:g}s after the request: {error.detail}",
        0.0,
        final=True,
    )


@contextlib.contextmanager
def _locked(delivery_id: str, begin: repository.Begin | None = None) -> Iterator[dict[str, str]]:
    """The delivery's lock and its saga's state (with `begin` written with them when the saga is
    running or new), or a retry that does not count: another worker holds it (it renews it while
    it works, so come back soon), or this worker's lock lapsed while it stalled and another one
    took over (its writes were refused; the saga resumes from what was recorded)."""
    try:
        with repository.locked(delivery_id, settings.WORKFLOW_LOCK_SECONDS, begin) as state:
            yield state
    except Busy as busy:
        countdown = min(busy.retry_in, settings.WORKFLOW_RETRY_BASE_DELAY)
        raise RetryLater(
            f"delivery {delivery_id} is being processed by another worker",
            countdown=countdown + random.uniform(0.1, 0.5),
            counts=False,
        ) from None
    except LockLost:
        raise RetryLater(
            f"lost the lock on delivery {delivery_id} to another worker",
            countdown=settings.WORKFLOW_RETRY_BASE_DELAY,
            counts=False,
        ) from None


def handle(message: dict[str, Any], attempt: int = 0, replayed: bool = False) -> Outcome:
    """Process one validated message; `attempt` counts earlier tries of this message. A message an
    operator replayed from the dead-letter queue starts its saga afresh."""
    delivery_id = message["deliveryId"]
    afresh = replayed and attempt == 0 and message["operation"] == DELIVERY
    # A delivery's first write travels with the lock, unless a replay resets the saga first.
    begin = _begin(message) if message["operation"] == DELIVERY and not afresh else None
    with _locked(delivery_id, begin) as state:
        if afresh:
            repository.reset(delivery_id)
            state = repository.load(delivery_id)
        if message["operation"] == DELIVERY:
            return _schedule(message, attempt, state, begin or _begin(message))
        if message["operation"] == CANCEL:
            return _cancel(delivery_id, attempt, state)
        return _reschedule(message, attempt, state)


def _record(delivery_id: str, operation: str, outcome: str, reason: str = "") -> None:
    """An operation's outcome; its deadline (`<operation>FirstAt`) ends with it, so the next
    reschedule of the same delivery starts its own."""
    repository.update(
        delivery_id,
        **{f"{operation}Outcome": outcome, f"{operation}Reason": reason, f"{operation}FirstAt": ""},
    )


# --- delivery ---
def _begin(message: dict[str, Any]) -> repository.Begin:
    """The saga's first write before its first step: running, with the first attempt's time (kept
    from the first attempt) and what a cancel needs to undo and show it."""
    return repository.Begin(
        "firstAttemptAt",
        time.time(),
        {
            "status": Status.RUNNING,
            "packageId": message["packageInfo"]["packageId"],
            "request": json.dumps(_delivery_body(message, "")),
            "ownerId": message["ownerId"],
        },
    )


def _schedule(
    message: dict[str, Any], attempt: int, state: dict[str, str], begin: repository.Begin
) -> Outcome:
    delivery_id = message["deliveryId"]
    status = state.get("status", "")
    if status in ENDED_UNSCHEDULED:
        if not state.get("shown") and not state.get("replayable"):
            try:
                _show_ended(delivery_id, _delivery_body(message, ""), state.get("reason", ""))
            except TransientError as error:  # the saga has ended: showing it is never dropped
                raise _wait(delivery_id, "showWaits", str(error)) from error
        return Outcome(status, state.get("reason", ""), state.get("droneId", ""))
    if status == Status.COMPLETED:
        return Outcome(status, state.get("reason", ""), state.get("droneId", ""))
    if status == Status.COMPENSATING and state.get("givingUp"):
        _finish_giving_up(message)
        raise GivenUp(state.get("reason", ""))
    if state.get("cancelRequested"):  # a cancel that has not finished its own undo
        return _compensate(message, CANCELLED_BY_CLIENT, attempt, Status.CANCELLED)
    if status == Status.COMPENSATING:
        return _compensate(message, state.get("reason", ""), attempt)
    if begin.stored is None:  # not written with the lock (a replay's reset came between)
        begin.stored = repository.begin(delivery_id, begin.first, begin.value, **begin.fields)
    started = float(begin.stored)
    # A step's marks (the package's, the drone with its ETAs) are recorded with the saga's next
    # write, a round trip less each: the last one, a retry's or the compensation's. Only a worker
    # that dies before then repeats the steps, each idempotent by id (the same drone comes back);
    # an undo releases the drone by the delivery's id, recorded or not.
    unrecorded: dict[str, Any] = {}
    try:
        if not state.get("packageDone"):
            clients.put_package(message["packageInfo"]["packageId"], _package_body(message))
            unrecorded["packageDone"] = 1
        drone_id = state.get("droneId") or _assign(message, started, state, unrecorded)
        if not state.get("deliveryDone"):
            body = _delivery_body(message, drone_id)
            body.update({k: state[k] for k in ("pickupETA", "deliveryETA") if state.get(k)})
            repository.still_held(delivery_id)  # the steps' marks are not written yet
            try:
                clients.put_delivery(delivery_id, body)
            except PermanentError as error:
                if not _already_completed(error):
                    raise
    except TransientError as error:
        _mark(delivery_id, unrecorded)
        raise _transient(delivery_id, error, attempt, started, "shedWaits") from error
    except RetryLater:  # waiting for a drone
        _mark(delivery_id, unrecorded)
        raise
    except PermanentError as error:
        return _compensate(message, _refusal(error), attempt, marks=unrecorded)
    # One write, which releases the lock: nothing below writes to this saga.
    repository.finish(delivery_id, **unrecorded, deliveryDone=1, status=Status.COMPLETED)
    logger.info("delivery %s scheduled with drone %s", delivery_id, drone_id)
    return Outcome(Status.COMPLETED, drone_id=drone_id)


def _mark(delivery_id: str, unrecorded: dict[str, Any]) -> None:
    """Record the steps done and not recorded yet, so that a retry does not repeat them."""
    if unrecorded:
        repository.update(delivery_id, **unrecorded)
        unrecorded.clear()


def _already_completed(error: PermanentError) -> bool:
    """The delivery PUT of a replay after a crash: this saga's own PUT had landed (the id is ours
    alone) and the drone has since delivered, so the deliveries service refuses to replace it."""
    return error.status == 409 and error.problem.get("stage") == "Completed"


def _refusal(error: PermanentError) -> str:
    if error.problem_type.rsplit("/", 1)[-1] == UNSERVICEABLE:
        return f"unserviceable: {error.detail}"
    if error.status is None:  # raised here: the no-drone deadline passed
        return error.detail
    return f"{error.service} refused: {error.detail}"


def _assign(
    message: dict[str, Any], started: float, state: dict[str, str], unrecorded: dict[str, Any]
) -> str:
    """Assign a drone; it and its ETAs join the `unrecorded` marks, and `state` (not read back)."""
    delivery_id = message["deliveryId"]
    try:
        assignment = clients.assign_drone(delivery_id, _assignment_body(message))
    except PermanentError as error:
        if error.status != 409:
            raise  # unserviceable (422) or a refusal: compensated at once
        deadline = settings.WORKFLOW_NO_DRONE_DEADLINE_SECONDS
        left = deadline - (time.time() - started)
        if left > 0:
            # Bounded by the deadline, not by attempts; the last try lands at the deadline.
            raise _wait(
                delivery_id, "droneWaits", f"no drone available yet ({error.detail})", left
            ) from error
        raise PermanentError(
            error.service,
            error.method,
            "",
            None,
            f"no drone became available within {deadline:g}s",
        ) from error
    assigned = {
        "droneId": assignment["droneId"],
        "pickupETA": assignment.get("pickupETA") or "",
        "deliveryETA": assignment.get("deliveryETA") or "",
    }
    unrecorded.update(assigned)
    state.update(assigned)
    return assignment["droneId"]


def _compensate(
    message: dict[str, Any],
    reason: str,
    attempt: int,
    ending: str = Status.COMPENSATED,
    marks: dict[str, Any] | None = None,
) -> Outcome:
    """Undo what the saga did, newest first, record why (with the steps' `marks` not recorded
    yet), and show the client the request ended (Cancelled with the reason). Safe to repeat.
    `ending` is the saga's final status."""
    delivery_id = message["deliveryId"]
    repository.update(delivery_id, **(marks or {}), status=Status.COMPENSATING, reason=reason)
    logger.warning("compensating delivery %s: %s", delivery_id, reason)
    try:
        _undo(delivery_id, message["packageInfo"]["packageId"], message["ownerId"], reason)
        _show_ended(delivery_id, _delivery_body(message, ""), reason)
    except TransientError as error:
        # Never dropped: an undo left half-done would hold a drone and a package for good.
        raise _wait(
            delivery_id, "compensationWaits", f"compensation of {delivery_id} pending: {error}"
        ) from error
    except PermanentError as error:
        raise _retry(f"compensation of {delivery_id} refused: {error}", attempt) from error
    repository.update(delivery_id, status=ending)
    return Outcome(ending, reason)


def _undo(delivery_id: str, package_id: str, owner_id: str, reason: str) -> bool:
    """Cancel the delivery, release the drone, free the package. Whether a delivery existed."""
    existed = clients.cancel_delivery(delivery_id, reason)
    clients.release_drone(delivery_id)
    if package_id:
        clients.mark_package(package_id, owner_id, "NotInDelivery")
    if existed:
        repository.update(delivery_id, shown=1)
    return existed


def _show_ended(delivery_id: str, body: dict[str, Any] | None, reason: str) -> None:
    """Store a request that ended unscheduled as a Cancelled delivery with the reason. A refusal
    is logged, not retried (the saga has ended either way); a transient failure propagates."""
    if repository.load(delivery_id).get("shown"):
        return
    if not body:
        logger.warning("delivery %s ended (%s) before its request was seen", delivery_id, reason)
        return
    try:
        clients.put_delivery(delivery_id, {**body, "stage": "Cancelled", "reason": reason})
    except PermanentError as error:
        logger.error("delivery %s ended (%s) but cannot be shown: %s", delivery_id, reason, error)
        repository.update(delivery_id, shownError=str(error)[:500])
        return
    repository.update(delivery_id, shown=1)


def give_up(message: dict[str, Any], reason: str) -> None:
    """Retries are exhausted (or the deadline passed); the caller dead-letters the message once
    this returns. A delivery first undoes what it did and stays unshown so that a replay can
    schedule it: while the undo cannot run (a service down) this raises RetryLater, and the
    message's next try (`_schedule`) finishes the undo and raises GivenUp. A cancel or a reschedule
    records that it failed and leaves the delivery as it was."""
    delivery_id = message["deliveryId"]
    with _locked(delivery_id):
        if message["operation"] != DELIVERY:
            _record(delivery_id, message["operation"], OperationOutcome.FAILED, reason)
            return
        repository.update(
            delivery_id, status=Status.COMPENSATING, reason=reason, replayable=1, givingUp=1
        )
        _finish_giving_up(message)


def _finish_giving_up(message: dict[str, Any]) -> None:
    delivery_id = message["deliveryId"]
    state = repository.load(delivery_id)
    package_id = message.get("packageInfo", {}).get("packageId", "") or state.get("packageId", "")
    owner_id = message.get("ownerId", "") or state.get("ownerId", "")
    try:
        _undo(delivery_id, package_id, owner_id, state.get("reason", ""))
    except TransientError as error:
        raise _wait(
            delivery_id, "compensationWaits", f"undo of {delivery_id} pending: {error}"
        ) from error
    except PermanentError as error:  # nothing retrying could change: the dead letter says it
        logger.error("could not compensate %s after giving up: %s", delivery_id, error)
        return
    repository.update(delivery_id, status=Status.COMPENSATED)


# --- cancel ---
def _cancel(delivery_id: str, attempt: int, state: dict[str, str]) -> Outcome:
    status = state.get("status", "")
    if status == Status.CANCELLED:
        return Outcome(Status.CANCELLED, state.get("reason", ""))
    if status in (Status.COMPENSATED, Status.COMPENSATING) and not state.get("cancelRequested"):
        reason = f"not cancelled: the delivery already ended ({state.get('reason', '')})"
        _record(delivery_id, CANCEL, OperationOutcome.REFUSED, reason)
        return Outcome(OperationOutcome.REFUSED, reason)
    started = float(repository.begin(delivery_id, "cancelFirstAt", time.time(), cancelRequested=1))
    if not status:
        # The create has not arrived (or not started): it will find the cancel, end and show.
        repository.update(delivery_id, status=Status.CANCELLED, reason=CANCELLED_UNSCHEDULED)
        _record(delivery_id, CANCEL, OperationOutcome.DONE, CANCELLED_UNSCHEDULED)
        return Outcome(Status.CANCELLED, CANCELLED_UNSCHEDULED)
    reason = CANCELLED_BY_CLIENT
    try:
        if not _undo(delivery_id, state.get("packageId", ""), state.get("ownerId", ""), reason):
            _show_ended(delivery_id, json.loads(state.get("request") or "null"), reason)
    except TransientError as error:
        raise _transient(delivery_id, error, attempt, started, "cancelWaits") from error
    except PermanentError as error:
        refused = f"cannot cancel: {error.service} answered {error.status}: {error.detail}"
        _record(delivery_id, CANCEL, OperationOutcome.REFUSED, refused)
        return Outcome(OperationOutcome.REFUSED, refused)
    repository.update(delivery_id, status=Status.CANCELLED, reason=reason)
    _record(delivery_id, CANCEL, OperationOutcome.DONE, reason)
    return Outcome(Status.CANCELLED, reason)


# --- reschedule ---
def _reschedule(message: dict[str, Any], attempt: int, state: dict[str, str]) -> Outcome:
    delivery_id = message["deliveryId"]
    status = state.get("status", "")
    if status in (Status.CANCELLED, Status.COMPENSATED, Status.COMPENSATING):
        reason = f"not rescheduled: the delivery is {status}"
        _record(delivery_id, RESCHEDULE, OperationOutcome.REFUSED, reason)
        return Outcome(OperationOutcome.REFUSED, reason)
    waited = time.time() - float(state.get("firstAttemptAt") or 0)
    if status == Status.RUNNING and waited < settings.WORKFLOW_NO_DRONE_DEADLINE_SECONDS:
        # Its delivery may wait for a drone that long; attempts would run out before it.
        raise _wait(delivery_id, "rescheduleWaits", f"delivery {delivery_id} is not scheduled yet")
    if status == Status.RUNNING:
        raise _retry(f"delivery {delivery_id} is not scheduled yet", attempt)
    if status != Status.COMPLETED:
        raise _not_known_yet(delivery_id, attempt)
    changes = {
        k: message[k] for k in ("pickup", "dropoff", "pickupTime", "deadline") if k in message
    }
    started = float(repository.set_if_absent(delivery_id, "rescheduleFirstAt", time.time()))
    try:
        clients.reschedule_delivery(delivery_id, changes)
        route = {k: changes[k] for k in ("pickup", "dropoff") if k in changes}
        if route:
            clients.replan_drone(delivery_id, route)
    except TransientError as error:
        raise _transient(delivery_id, error, attempt, started, "rescheduleWaits") from error
    except PermanentError as error:
        reason = f"not rescheduled: {error.service} answered {error.status}: {error.detail}"
        _record(delivery_id, RESCHEDULE, OperationOutcome.REFUSED, reason)
        return Outcome(OperationOutcome.REFUSED, reason)
    _record(delivery_id, RESCHEDULE, OperationOutcome.DONE, "rescheduled")
    return Outcome(Status.COMPLETED, "rescheduled")


def _not_known_yet(delivery_id: str, attempt: int) -> RetryLater:
    """A reschedule that came before its delivery's create. The create may still be on its way:
    held by a worker that died (the broker hands it out again after BROKER_VISIBILITY_TIMEOUT) or
    waiting out a retry's countdown. Until then the reschedule waits without spending attempts;
    after that its attempts count, so one whose create never comes is still given up."""
    started = float(repository.set_if_absent(delivery_id, "rescheduleFirstAt", time.time()))
    grace = settings.BROKER_VISIBILITY_TIMEOUT + settings.WORKFLOW_RETRY_MAX_DELAY
    left = grace - (time.time() - started)
    reason = f"delivery {delivery_id} is not known yet"
    if left > 0:
        return _wait(delivery_id, "rescheduleWaits", reason, left)
    return _retry(reason, attempt)


# --- request bodies ---
def _package_body(message: DeliveryMessage) -> PackagePut:
    package = message["packageInfo"]
    return {
        "size": package["size"],
        "weight": package["weight"],
        "tag": package.get("tag", ""),
        "ownerId": message["ownerId"],
        "deliveryState": DeliveryState.IN_DELIVERY,
    }


def _assignment_body(message: DeliveryMessage) -> DroneAssignment:
    package = message["packageInfo"]
    return {
        "deliveryId": message["deliveryId"],
        "ownerId": message["ownerId"],
        "pickup": message["pickup"],
        "dropoff": message["dropoff"],
        "packageDetails": [
            {"id": package["packageId"], "size": package["size"], "weight": package["weight"]}
        ],
        "expedited": message.get("expedited", False),
    }


def _delivery_body(message: DeliveryMessage, drone_id: str) -> DeliveryPut:
    return {
        "owner": {"userId": message["ownerId"], "accountId": message["ownerId"]},
        "pickup": message["pickup"],
        "dropoff": message["dropoff"],
        "pickupTime": message["pickupTime"],
        "deadline": message.get("deadline") or "",
        "expedited": message.get("expedited", False),
        "confirmationRequired": message.get("confirmationRequired", "None"),
        "droneId": drone_id,
        "packageId": message["packageInfo"]["packageId"],
    }
