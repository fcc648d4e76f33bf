"""Accepting delivery requests, cancels and reschedules: validated input → a message the broker
has accepted. Each function returns only after the broker confirmed, or raises BrokerUnavailable
with nothing queued."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

from fabrikam.apps.accounts.principal import Principal
from fabrikam.apps.ingestion import idempotency, messages, publisher, repository
from fabrikam.apps.ingestion.exceptions import (
    BrokerUnavailable,
    DeliveryBeingCancelled,
    DeliveryRequestNotFound,
    IdempotencyStoreUnavailable,
)

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def _redis_errors_as_503() -> Iterator[None]:
    """Redis (message ids, idempotency keys) down: a 503 before anything was published."""
    try:
        yield
    except RedisError as exc:
        logger.warning("Redis failed while accepting a request: %s", exc)
        raise IdempotencyStoreUnavailable(
            "The request store did not answer; nothing was queued. Retry later.",
            retry_after=settings.BROKER_RETRY_AFTER_SECONDS,
        ) from exc


def require_own_delivery(delivery_id: str, principal: Principal) -> None:
    """A business may change only the deliveries it requested. Another's, or an id never issued,
    is the same 404: existence does not leak. Admin and internal callers may change any."""
    if principal.acts_for_every_owner:
        return
    with _redis_errors_as_503():
        owner_id = repository.owner_of(delivery_id)
    if owner_id is None or not principal.may_act_for(owner_id):
        raise DeliveryRequestNotFound(f"You have no delivery {delivery_id}.")


def new_delivery_id() -> str:
    return uuid.uuid4().hex


def request_delivery(
    request: dict[str, Any],
    trace: dict[str, str],
    idempotency_key: str | None = None,
    client_id: str = "",
    owner_sent_with: repository.SentWith | None = None,
) -> str:
    """Queue a new delivery and return its id. A retry by the same API client (`client_id`) with
    the same Idempotency-Key and the same request gets the first delivery id, and is queued only
    if the first attempt was not. Another client's key is another key. Without a key, the new
    delivery's owner is recorded through `owner_sent_with` when given (the view's throttles,
    counted in the same round trip)."""
    delivery_id = new_delivery_id()
    if not idempotency_key:
        with _redis_errors_as_503():
            message_id = repository.new_delivery(
                delivery_id, request["ownerId"], messages.DELIVERY, owner_sent_with
            )
        publisher.publish(messages.delivery_message(delivery_id, request), message_id, trace)
        return delivery_id
    message_id = repository.message_id(delivery_id, messages.DELIVERY, repository.FIRST)
    fingerprint = idempotency.fingerprint(messages.echo(request))
    with _redis_errors_as_503():
        claim = idempotency.claim(
            idempotency.scoped_key(client_id, idempotency_key), fingerprint, delivery_id, message_id
        )
    if claim.outcome == idempotency.QUEUED:
        return claim.delivery_id
    if claim.outcome == idempotency.FAILED:
        raise BrokerUnavailable(
            "An earlier request with this Idempotency-Key could not be queued. Retry later.",
            retry_after=settings.BROKER_RETRY_AFTER_SECONDS,
        )
    with _redis_errors_as_503():
        repository.record_owner(claim.delivery_id, request["ownerId"])
    message = messages.delivery_message(claim.delivery_id, request)
    try:
        publisher.publish(message, claim.message_id, trace)
    except BaseException:
        with contextlib.suppress(RedisError):  # the lease then runs out by itself
            idempotency.abandon(claim)
        raise
    try:
        idempotency.complete(claim)
    except RedisError as exc:
        # The broker has the message, so this is still a 202. A retry with the key after the
        # lease runs out queues the same delivery id and message id again, which the workflow
        # handles as the redelivery it is.
        logger.warning("queued %s but could not record it: %s", claim.message_id, exc)
    return claim.delivery_id


def reschedule_delivery(delivery_id: str, changes: dict[str, Any], trace: dict[str, str]) -> None:
    """Queue new locations or times; a delivery whose cancel was accepted here is a 409 (the
    workflow could only dead-letter the reschedule)."""
    with _redis_errors_as_503():
        if repository.cancel_requested(delivery_id):
            raise DeliveryBeingCancelled(
                f"Delivery {delivery_id} was cancelled; request a new delivery instead."
            )
        message_id = repository.next_message_id(delivery_id, messages.RESCHEDULE)
    publisher.publish(messages.reschedule_message(delivery_id, changes), message_id, trace)


def cancel_delivery(delivery_id: str, trace: dict[str, str]) -> None:
    with _redis_errors_as_503():
        message_id = repository.next_message_id(delivery_id, messages.CANCEL)
    publisher.publish(messages.cancel_message(delivery_id), message_id, trace)
    try:
        repository.record_cancel(delivery_id)
    except RedisError as exc:  # queued all the same: a 202; only a later reschedule is not refused
        logger.warning("queued the cancel of %s but could not record it: %s", delivery_id, exc)
