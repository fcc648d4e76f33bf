"""Reads of deliveries: one delivery, its status and events, summaries, admin listings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from fabrikam.apps.deliveries import repository
from fabrikam.apps.deliveries.exceptions import DeliveryClosed, DeliveryNotFound
from fabrikam.apps.deliveries.records import (
    Confirmation,
    Delivery,
    DeliveryStatus,
    NotifyMeRequest,
    Owner,
    TrackingEvent,
)
from fabrikam.contract.enums import DeliveryStage

Along = repository.Along


def get_delivery(delivery_id: str) -> Delivery:
    delivery = repository.load(delivery_id)
    if delivery is None:
        raise DeliveryNotFound(f"There is no delivery {delivery_id}.")
    return delivery


def get_delivery_or_expired(delivery_id: str) -> Delivery:
    """The delivery; a 409 rather than a 404 for one that was cancelled and has expired."""
    delivery = repository.load(delivery_id)
    if delivery is not None:
        return delivery
    cancelled_at = repository.cancelled_at(delivery_id)
    if cancelled_at is not None:
        raise DeliveryClosed(
            f"Delivery {delivery_id} was cancelled at {cancelled_at.isoformat()} and has "
            "expired; use a new delivery id.",
            stage=DeliveryStage.CANCELLED.value,
        )
    raise DeliveryNotFound(f"There is no delivery {delivery_id}.")


def delivery_owner(delivery_id: str) -> Owner:
    return get_delivery(delivery_id).owner


def delivery_status(delivery_id: str) -> DeliveryStatus:
    """Stage, last known location and ETAs from the drone's flight updates; before the first
    one, the pickup location and the ETAs of the drone's assignment."""
    return status_of(get_delivery(delivery_id))


def owner_and_status(delivery_id: str, along: Along | None = None) -> tuple[str, DeliveryStatus]:
    """The owner's account id and `delivery_status`, read from only the fields they need."""
    found = repository.load_status(delivery_id, along)
    if found is None:
        raise DeliveryNotFound(f"There is no delivery {delivery_id}.")
    return found


def status_read(delivery_id: str) -> Any:
    """`owner_and_status`'s one Redis command, to add to a (sync or asyncio) pipeline."""
    return repository.status_read(delivery_id)


def owner_and_status_from(values: list[Any]) -> tuple[str, DeliveryStatus] | None:
    """`owner_and_status` from what Redis answered `status_read`; None for no delivery."""
    return repository.decode_status(values)


def status_of(delivery: Delivery) -> DeliveryStatus:
    """`delivery_status` of a delivery already read."""
    return DeliveryStatus(
        stage=delivery.stage,
        last_known_location=delivery.last_location or delivery.pickup,
        pickup_eta=delivery.pickup_eta,
        delivery_eta=delivery.delivery_eta,
        reason=delivery.reason,
    )


def delivery_events(delivery_id: str) -> list[TrackingEvent]:
    """The delivery's tracking events, oldest first."""
    get_delivery(delivery_id)
    return repository.events(delivery_id)


def delivery_confirmation(delivery_id: str) -> Confirmation | None:
    return repository.confirmation(delivery_id)


def notify_me_requests(delivery_id: str) -> list[NotifyMeRequest]:
    return repository.notify_me_requests(delivery_id)


def owner_month_count(owner_id: str, year: int, month: int) -> int:
    """Stored deliveries of the owner (owner.userId) with their pickup in that month (their
    creation month when they have no pickup time); cancelled ones count until they expire."""
    return repository.count_in_month(owner_id, f"{year:04d}-{month:02d}", timezone.now())


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[Delivery]
    total: int


def search_deliveries(
    query: str = "", stage: DeliveryStage | None = None, start: int = 0, count: int = 50
) -> DeliveryPage:
    """For the admin list, newest first: a query is an exact delivery id or an owner id."""
    now = timezone.now()
    repository.purge_expired(now)
    if not query:
        ids, total = repository.page(stage, start, count)
        return DeliveryPage(repository.load_many(ids), total)
    ids = list(dict.fromkeys([query, *repository.owner_delivery_ids(query, now)]))
    matching = [d for d in repository.load_many(ids) if stage is None or d.stage == stage]
    matching.sort(key=lambda d: d.created_at, reverse=True)
    return DeliveryPage(matching[start : start + count], len(matching))
