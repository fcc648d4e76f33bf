"""The delivery saga and its compensation, cancel and reschedule.

Delivery: package PUT → drone assignment PUT → delivery PUT. Each step is idempotent by id and its
completion is recorded (repository), so a redelivered message resumes where the last attempt
stopped. A step that fails permanently undoes the earlier ones; a transient failure asks the caller
(the Celery task) to try again later with `RetryLater`, never by sleeping here.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from fabrikam.apps.workflow import clients, repository
from fabrikam.apps.workflow.messages import CANCEL, DELIVERY
from fabrikam.http import DownstreamError, PermanentError, TransientError
from fabrikam.resilience import backoff_delay

logger = logging.getLogger(__name__)


class Status:
    RUNNING = "running"
    COMPLETED = "completed"
    COMPENSATING = "compensating"
    COMPENSATED = "compensated"
    CANCELLED = "cancelled"


FINAL = {Status.COMPLETED, Status.COMPENSATED, Status.CANCELLED}


class RetryLater(Exception):
    def __init__(self, reason: str, countdown: float, counts: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.countdown = countdown
        self.counts = counts  # whether this try counts towards WORKFLOW_MAX_ATTEMPTS


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


def handle(message: dict[str, Any], attempt: int = 0, replayed: bool = False) -> Outcome:
    """Process one validated message; `attempt` counts earlier tries of this message. A message an
    operator replayed from the dead-letter queue starts its saga afresh."""
    delivery_id = message["deliveryId"]
    try:
        with repository.locked(delivery_id, settings.WORKFLOW_LOCK_SECONDS):
            if replayed and attempt == 0 and message["operation"] == DELIVERY:
                repository.reset(delivery_id)
            if message["operation"] == DELIVERY:
                return _schedule(message, attempt)
            if message["operation"] == CANCEL:
                return _cancel(delivery_id)
            return _reschedule(message, attempt)
    except repository.Busy as busy:
        # Come back when the other worker's lock is released or has expired (it died).
        raise RetryLater(
            f"delivery {delivery_id} is being processed by another worker",
            countdown=busy.retry_in + random.uniform(0.1, 0.5),
            counts=False,
        ) from None


# --- delivery ---
def _schedule(message: dict[str, Any], attempt: int) -> Outcome:
    delivery_id = message["deliveryId"]
    state = repository.load(delivery_id)
    if state.get("status") in FINAL:
        return Outcome(state["status"], state.get("reason", ""), state.get("droneId", ""))
    if state.get("cancelRequested"):
        repository.update(
            delivery_id, status=Status.CANCELLED, reason="cancelled before it was scheduled"
        )
        return Outcome(Status.CANCELLED, "cancelled before it was scheduled")
    if state.get("status") == Status.COMPENSATING:
        return _compensate(message, state.get("reason", ""), attempt)
    started = float(repository.set_if_absent(delivery_id, "firstAttemptAt", time.time()))
    repository.update(
        delivery_id,
        status=Status.RUNNING,
        packageId=message["packageInfo"]["packageId"],
        ownerId=message["ownerId"],
    )
    try:
        if not state.get("packageDone"):
            clients.put_package(message["packageInfo"]["packageId"], _package_body(message))
            repository.update(delivery_id, packageDone=1)
        drone_id = state.get("droneId") or _assign(message, started, attempt)
        if not state.get("deliveryDone"):
            etas = repository.load(delivery_id)
            body = _delivery_body(message, drone_id)
            body.update({k: etas[k] for k in ("pickupETA", "deliveryETA") if etas.get(k)})
            clients.put_delivery(delivery_id, body)
            repository.update(delivery_id, deliveryDone=1)
    except TransientError as error:
        raise _retry(str(error), attempt, error.retry_after) from error
    except PermanentError as error:
        return _compensate(message, f"{error.service} refused: {error.detail}", attempt)
    repository.update(delivery_id, status=Status.COMPLETED)
    logger.info("delivery %s scheduled with drone %s", delivery_id, drone_id)
    return Outcome(Status.COMPLETED, drone_id=drone_id)


def _assign(message: dict[str, Any], started: float, attempt: int) -> str:
    delivery_id = message["deliveryId"]
    try:
        assignment = clients.assign_drone(delivery_id, _assignment_body(message))
    except PermanentError as error:
        if error.status != 409:
            raise
        waited = time.time() - started
        if waited < settings.WORKFLOW_NO_DRONE_DEADLINE_SECONDS:
            raise _retry(f"no drone available yet ({error.detail})", attempt) from error
        raise PermanentError(
            error.service,
            error.method,
            "",
            409,
            f"no drone became available within {settings.WORKFLOW_NO_DRONE_DEADLINE_SECONDS:g}s",
        ) from error
    repository.update(
        delivery_id,
        droneId=assignment["droneId"],
        pickupETA=assignment.get("pickupETA") or "",
        deliveryETA=assignment.get("deliveryETA") or "",
    )
    return assignment["droneId"]


def _compensate(message: dict[str, Any], reason: str, attempt: int) -> Outcome:
    """Undo what the saga did, newest first, and record why. Safe to repeat."""
    delivery_id = message["deliveryId"]
    repository.update(delivery_id, status=Status.COMPENSATING, reason=reason)
    logger.warning("compensating delivery %s: %s", delivery_id, reason)
    try:
        _undo(
            delivery_id,
            message.get("packageInfo", {}).get("packageId", ""),
            message.get("ownerId", ""),
        )
    except DownstreamError as error:
        raise _retry(f"compensation of {delivery_id} pending: {error}", attempt) from error
    repository.update(delivery_id, status=Status.COMPENSATED)
    return Outcome(Status.COMPENSATED, reason)


def _undo(delivery_id: str, package_id: str, owner_id: str) -> None:
    clients.cancel_delivery(delivery_id)
    clients.release_drone(delivery_id)
    if package_id:
        clients.mark_package(package_id, owner_id, "NotInDelivery")


def give_up(message: dict[str, Any], reason: str) -> None:
    """Retries are exhausted: leave nothing half-done. Best effort; the caller dead-letters."""
    delivery_id = message["deliveryId"]
    repository.update(delivery_id, status=Status.COMPENSATING, reason=reason)
    state = repository.load(delivery_id)
    package_id = message.get("packageInfo", {}).get("packageId", "") or state.get("packageId", "")
    owner_id = message.get("ownerId", "") or state.get("ownerId", "")
    try:
        if message["operation"] == DELIVERY:
            _undo(delivery_id, package_id, owner_id)
        repository.update(delivery_id, status=Status.COMPENSATED)
    except DownstreamError as error:
        logger.error("could not compensate %s after giving up: %s", delivery_id, error)


# --- cancel ---
def _cancel(delivery_id: str) -> Outcome:
    state = repository.load(delivery_id)
    if state.get("status") == Status.CANCELLED:
        return Outcome(Status.CANCELLED, state.get("reason", ""))
    repository.update(delivery_id, cancelRequested=1)
    if not state.get("status"):
        # The create has not arrived (or not started): remember, so the late create does nothing.
        repository.update(
            delivery_id, status=Status.CANCELLED, reason="cancelled before it was scheduled"
        )
        return Outcome(Status.CANCELLED, "cancelled before it was scheduled")
    try:
        clients.cancel_delivery(delivery_id)
        clients.release_drone(delivery_id)
        if state.get("packageId"):
            clients.mark_package(state["packageId"], state.get("ownerId", ""), "NotInDelivery")
    except TransientError as error:
        raise _retry(str(error), 0, error.retry_after) from error
    except PermanentError as error:
        reason = f"cannot cancel: {error.service} answered {error.status}: {error.detail}"
        repository.update(delivery_id, cancelRefused=reason)
        return Outcome(state.get("status", ""), reason)
    repository.update(delivery_id, status=Status.CANCELLED, reason="cancelled by the client")
    return Outcome(Status.CANCELLED, "cancelled by the client")


# --- reschedule ---
def _reschedule(message: dict[str, Any], attempt: int) -> Outcome:
    delivery_id = message["deliveryId"]
    state = repository.load(delivery_id)
    status = state.get("status", "")
    if status in (Status.CANCELLED, Status.COMPENSATED, Status.COMPENSATING):
        return Outcome(status, f"not rescheduled: the delivery is {status}")
    if status != Status.COMPLETED:
        raise _retry(f"delivery {delivery_id} is not scheduled yet", attempt)
    changes = {
        k: message[k] for k in ("pickup", "dropoff", "pickupTime", "deadline") if k in message
    }
    try:
        clients.reschedule_delivery(delivery_id, changes)
        route = {k: changes[k] for k in ("pickup", "dropoff") if k in changes}
        if route:
            clients.replan_drone(delivery_id, route)
    except TransientError as error:
        raise _retry(str(error), attempt, error.retry_after) from error
    except PermanentError as error:
        reason = f"not rescheduled: {error.service} answered {error.status}: {error.detail}"
        repository.update(delivery_id, rescheduleRefused=reason)
        return Outcome(status, reason)
    return Outcome(Status.COMPLETED, "rescheduled")


# --- request bodies ---
def _package_body(message: dict[str, Any]) -> dict[str, Any]:
    package = message["packageInfo"]
    return {
        "size": package["size"],
        "weight": package["weight"],
        "tag": package.get("tag", ""),
        "ownerId": message["ownerId"],
        "deliveryState": "InDelivery",
    }


def _assignment_body(message: dict[str, Any]) -> dict[str, Any]:
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


def _delivery_body(message: dict[str, Any], drone_id: str) -> dict[str, Any]:
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
