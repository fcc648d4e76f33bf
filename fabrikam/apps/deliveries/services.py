"""Writes and business rules for deliveries: schedule, reschedule, cancel, track, confirm.

The rules are enforced inside the repository's Lua scripts, atomically with the write; here each
script's outcome becomes the answer or the domain error the API maps to problem+json.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from fabrikam.apps.deliveries import repository, selectors
from fabrikam.apps.deliveries.exceptions import (
    AlreadyConfirmed,
    ConcurrentChange,
    DeliveryClosed,
    DeliveryNotFound,
    OwnerMismatch,
    TooManyNotifyMeRequests,
    WrongConfirmationType,
)
from fabrikam.apps.deliveries.records import (
    Cancellation,
    Confirmation,
    Delivery,
    DeliveryDetails,
    FlightUpdate,
    NotifyMeRequest,
    Reschedule,
)
from fabrikam.apps.deliveries.repository import Outcome


def _fail(delivery_id: str, outcome: Outcome) -> None:
    """Raise the domain error for the outcomes every write shares."""
    if outcome.status == "missing":
        raise DeliveryNotFound(f"There is no delivery {delivery_id}.")
    if outcome.status == "gone":
        raise DeliveryClosed(
            f"Delivery {delivery_id} was cancelled at {repository.decode_time(outcome.detail)} "
            "and has expired; use a new delivery id.",
            stage="Cancelled",
        )
    if outcome.status == "closed":
        raise DeliveryClosed(
            f"Delivery {delivery_id} is {outcome.detail}.", stage=outcome.detail or None
        )
    if outcome.status == "retry":
        raise ConcurrentChange(f"Delivery {delivery_id} changed while updating it; try again.")


def schedule_delivery(delivery_id: str, details: DeliveryDetails) -> tuple[Delivery, bool]:
    """Create or replace a delivery (the workflow's idempotent PUT). Returns (delivery, created).

    Creating records a Created event once, however many PUTs race. A cancelled or completed
    delivery is not replaced, and a delivery keeps its owner.
    """
    created = store_delivery(delivery_id, details)
    return selectors.get_delivery(delivery_id), created


def store_delivery(delivery_id: str, details: DeliveryDetails) -> bool:
    """`schedule_delivery` without reading the delivery back (the in-process PUT of a saga, which
    answers no body): whether it was created."""
    outcome = repository.upsert(delivery_id, details, timezone.now())
    if outcome.status == "owner":
        raise OwnerMismatch(
            f"Delivery {delivery_id} belongs to owner {outcome.detail}, "
            f"not {details.owner.user_id}.",
            errors={"owner.userId": [f"Must be {outcome.detail}."]},
        )
    _fail(delivery_id, outcome)
    return outcome.status == "created"


def reschedule_delivery(delivery_id: str, change: Reschedule) -> Delivery:
    """New pickup, drop-off, pickup time or deadline, until the drone has the package."""
    delivery = selectors.get_delivery_or_expired(delivery_id)
    _fail(
        delivery_id,
        repository.reschedule(delivery_id, change, delivery.owner.user_id, timezone.now()),
    )
    return selectors.get_delivery(delivery_id)


def record_cancelled(
    delivery_id: str, details: DeliveryDetails, reason: str
) -> tuple[Delivery, bool]:
    """The workflow's PUT of a request that ended before it was scheduled (cancelled while it
    waited for a drone, or no drone can serve it): stored as Cancelled with the reason, so the
    client reads what became of it. Returns (delivery, created). Idempotent; a delivery that
    exists is cancelled as it is (its details are not replaced)."""
    created = False
    if repository.load(delivery_id) is None:
        created = store_delivery(delivery_id, details)
    elif (stored := selectors.get_delivery(delivery_id)).owner.user_id != details.owner.user_id:
        raise OwnerMismatch(
            f"Delivery {delivery_id} belongs to owner {stored.owner.user_id}, "
            f"not {details.owner.user_id}.",
            errors={"owner.userId": [f"Must be {stored.owner.user_id}."]},
        )
    cancel_delivery(delivery_id, reason)
    return selectors.get_delivery(delivery_id), created


def cancel_delivery(delivery_id: str, reason: str = "") -> Cancellation:
    """Cancel, keeping why; idempotent. The delivery, its events and its confirmation/notify-me
    data expire DELIVERY_CANCELLED_TTL_SECONDS later; a completed delivery cannot be cancelled."""
    ttl = timedelta(seconds=settings.DELIVERY_CANCELLED_TTL_SECONDS)
    now = timezone.now()
    delivery = repository.load(delivery_id)
    if delivery is None:
        previous = repository.cancelled_at(delivery_id)
        if previous is None:
            raise DeliveryNotFound(f"There is no delivery {delivery_id}.")
        return Cancellation(delivery_id, previous, previous + ttl)  # cancelled, since expired
    expires_at = now + ttl
    forget_at = expires_at + timedelta(seconds=settings.DELIVERY_TOMBSTONE_TTL_SECONDS)
    outcome = repository.cancel(
        delivery_id, delivery.owner.user_id, now, expires_at, forget_at, reason
    )
    if outcome.status == "gone":  # expired between the two reads
        cancelled_at = repository.decode_time(outcome.detail)
        return Cancellation(delivery_id, cancelled_at, cancelled_at + ttl)
    _fail(delivery_id, outcome)
    repository.purge_expired(now)
    cancelled_at = repository.decode_time(outcome.detail)
    return Cancellation(delivery_id, cancelled_at, cancelled_at + ttl)


def record_flight_update(delivery_id: str, update: FlightUpdate) -> bool:
    """Apply the drone scheduler's flight update; False when ignored (older than the last one
    applied, or the delivery is already completed or cancelled)."""
    outcome = repository.track(delivery_id, update, timezone.now())
    if outcome.status == "missing":
        _fail(delivery_id, outcome)
    return outcome.status == "applied"


def confirm_delivery(delivery_id: str, confirmation: Confirmation) -> Delivery:
    """Store the hand-over confirmation; its type must be the one the delivery requires."""
    outcome = repository.confirm(delivery_id, confirmation, timezone.now())
    if outcome.status == "type":
        raise WrongConfirmationType(
            f"Delivery {delivery_id} requires a {outcome.detail} confirmation, "
            f"not {confirmation.confirmation_type.value}.",
            errors={"confirmationType": [f"Must be {outcome.detail}."]},
        )
    if outcome.status == "confirmed":
        raise AlreadyConfirmed(f"Delivery {delivery_id} was already confirmed.")
    _fail(delivery_id, outcome)
    return selectors.get_delivery(delivery_id)


def request_notification(delivery_id: str, request: NotifyMeRequest) -> None:
    outcome = repository.add_notify_me(delivery_id, request, timezone.now())
    if outcome.status == "full":
        raise TooManyNotifyMeRequests(
            f"Delivery {delivery_id} already has {repository.NOTIFY_ME_LIMIT} notify-me requests."
        )
    _fail(delivery_id, outcome)
