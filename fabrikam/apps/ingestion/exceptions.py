"""What the ingestion refuses a request with (problem+json through the DRF exception handler).

The idempotency key's and the broker's own problems are still declared beside their stores
(`idempotency`, `publisher`) until those move into the ingestion's repository."""

from __future__ import annotations

from fabrikam.web.problems import Conflict, NotFound, ServiceUnavailable, Unprocessable


class IdempotencyStoreUnavailable(ServiceUnavailable):
    title = "The request could not be queued"
    slug = "idempotency-store-unavailable"


class DeliveryRequestNotFound(NotFound):
    title = "Delivery not found"
    slug = "delivery-not-found"


class DeliveryBeingCancelled(Conflict):
    title = "The delivery is being cancelled"
    slug = "delivery-being-cancelled"


class IdempotencyKeyReused(Unprocessable):
    title = "Idempotency-Key reused with a different request"
    slug = "idempotency-key-reused"


class IdempotentRequestInProgress(Conflict):
    title = "A request with this Idempotency-Key is in progress"
    slug = "idempotent-request-in-progress"
    headers = {"Retry-After": "1"}


class BrokerUnavailable(ServiceUnavailable):
    title = "The request could not be queued"
    slug = "broker-unavailable"


class NotFastPath(Exception):
    """Internal to validation: this body is not one the fast path accepts, so the serializer
    judges it (never reaches a client)."""
