from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrikam.apps.accounts.permissions import OWNER_WRITE, require_owner
from fabrikam.apps.accounts.throttles import ThrottledWithWrite
from fabrikam.apps.ingestion import messages, services, tracecontext
from fabrikam.apps.ingestion.api import fast_validation
from fabrikam.apps.ingestion.api.serializers import (
    IDEMPOTENCY_KEY_PATTERN,
    DeliveryIdSerializer,
    DeliveryRequestAcceptedSerializer,
    DeliveryRequestSerializer,
    IdempotencyKeySerializer,
    OperationAcceptedSerializer,
    RescheduleSerializer,
)
from fabrikam.contract.ids import ID_PATTERN
from fabrikam.web.openapi import problems
from fabrikam.web.problems import PayloadTooLarge

JSON = "application/json"

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": IDEMPOTENCY_KEY_PATTERN},
    OpenApiParameter.HEADER,
    description=(
        "Up to 255 printable ASCII characters, unique per request (a UUID). A retry with the same "
        "key and body returns the same deliveryId and queues nothing new; a retry after a 503 "
        "queues the same delivery. The same key with another body is a 422. Keys are per API "
        "client: another client's key never matches yours."
    ),
)
TRACEPARENT = OpenApiParameter(
    "traceparent",
    str,
    OpenApiParameter.HEADER,
    description="W3C Trace Context; the queued message continues this trace.",
)
LOCATION = OpenApiParameter(
    "Location",
    str,
    OpenApiParameter.HEADER,
    response=[202],
    description="/api/deliveries/{deliveryId}, where the delivery can be followed.",
)
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    response=[409, 503],
    description="Seconds to wait before retrying.",
)
DELIVERY_ID = OpenApiParameter(
    "deliveryId", {"type": "string", "pattern": ID_PATTERN}, OpenApiParameter.PATH
)
NOT_KNOWN_HERE = (
    " Ingestion does not own deliveries and cannot know whether this one exists: a 202 means the "
    "request is queued; the workflow applies it to the delivery, if there is one."
)


def _problems(*statuses: int) -> dict[tuple[int, str], Any]:
    return problems(
        *statuses,
        s400="Invalid fields (named in `errors`), a bad delivery id, or malformed JSON.",
        s409="A request with this Idempotency-Key is still being queued (retry after "
        "Retry-After), or, for a reschedule, the delivery's cancel was accepted.",
        s422="The deadline is before the pickup time, or the Idempotency-Key was used for a "
        "different request.",
        s503="The broker did not accept the message in time; nothing was queued. Retry after "
        "Retry-After (with the same Idempotency-Key).",
    )


def _location(delivery_id: str) -> dict[str, str]:
    return {"Location": f"/api/deliveries/{delivery_id}"}


def _valid(serializer_class: type, field: str, value: Any, reported_as: str = "") -> Any:
    """Validate one value (a header, a path segment) with a serializer's `field`; errors name it
    `reported_as` (the header's name)."""
    serializer = serializer_class(data={field: value})
    if not serializer.is_valid():
        raise exceptions.ValidationError({reported_as or field: serializer.errors[field]})
    return serializer.validated_data[field]


def _trace(request: Request) -> dict[str, str]:
    return tracecontext.message_headers(
        request.headers.get("traceparent"), request.headers.get("tracestate")
    )


def _content_length(request: Request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # as Django reads it


class JsonBodyView(APIView):
    """Requests with a body must say it is JSON: anything else, or no Content-Type, is a 415 (DRF
    alone would read a body without a Content-Type as empty). A body over the limit is a 413
    before it is read (Django would raise RequestDataTooBig from inside DRF's parsing)."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method in ("POST", "PUT", "PATCH"):
            media_type = request.content_type.split(";", 1)[0].strip().lower()
            if media_type != JSON:
                raise exceptions.UnsupportedMediaType(
                    media_type or "(none)",
                    detail=f"Send the body as JSON with Content-Type: {JSON}"
                    f" (got {media_type or 'no Content-Type'}).",
                )
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if _content_length(request) > limit:
                raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")


class DeliveryRequestsView(ThrottledWithWrite, JsonBodyView):
    required_scopes = {"POST": OWNER_WRITE}

    def defers_throttles(self, request: Request) -> bool:
        # Counted with the new delivery's owner record. With an Idempotency-Key they are counted
        # first, as DRF does: the key's claim must not be made for a request over its rate.
        return request.method == "POST" and "Idempotency-Key" not in request.headers

    @extend_schema(
        summary="Request a delivery",
        description=(
            "Validates the request and queues it for the workflow. 202 means the broker has the "
            "message (a RabbitMQ publisher confirm, Redis's reply, Service Bus's ack). A "
            "`deliveryId` in the body is ignored: the id is assigned here."
        ),
        request=DeliveryRequestSerializer,
        responses={
            202: OpenApiResponse(DeliveryRequestAcceptedSerializer, "Queued."),
            **_problems(400, 409, 413, 415, 422, 503),
        },
        parameters=[IDEMPOTENCY_KEY, TRACEPARENT, LOCATION, RETRY_AFTER],
        operation_id="requestDelivery",
    )
    def post(self, request: Request) -> Response:
        raw_key = request.headers.get("Idempotency-Key")
        key = (
            None
            if raw_key is None
            else _valid(IdempotencyKeySerializer, "key", raw_key, "Idempotency-Key")
        )
        validated = fast_validation.validated_delivery_request(request.data)
        if validated is None:  # the serializer judges (and words every error)
            serializer = DeliveryRequestSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            validated = serializer.validated_data
        require_owner(request, validated["ownerId"])
        delivery_id = services.request_delivery(
            validated,
            _trace(request),
            idempotency_key=key,
            client_id=request.user.client_id,
            owner_sent_with=functools.partial(self.throttled_write, request),
        )
        body = {**messages.echo(validated), "deliveryId": delivery_id}
        return Response(body, status=status.HTTP_202_ACCEPTED, headers=_location(delivery_id))


def _operation_schema(
    summary: str, description: str, request: Any, problems: tuple[int, ...], operation_id: str
) -> Any:
    """The OpenAPI description of a reschedule or cancel."""
    return extend_schema(
        summary=summary,
        description=description + NOT_KNOWN_HERE,
        request=request,
        responses={
            202: OpenApiResponse(OperationAcceptedSerializer, "Queued."),
            **_problems(*problems),
        },
        parameters=[DELIVERY_ID, TRACEPARENT, LOCATION, RETRY_AFTER],
        operation_id=operation_id,
    )


class DeliveryRequestView(JsonBodyView):
    required_scopes = {"PATCH": OWNER_WRITE, "DELETE": OWNER_WRITE}

    @_operation_schema(
        "Reschedule a delivery",
        "Queues new pickup/drop-off locations or times.",
        RescheduleSerializer,
        (400, 409, 413, 415, 422, 503),
        "rescheduleDelivery",
    )
    def patch(self, request: Request, deliveryId: str) -> Response:  # the contract's path name
        delivery_id = _valid(DeliveryIdSerializer, "deliveryId", deliveryId)
        services.require_own_delivery(delivery_id, request.user)
        serializer = RescheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.reschedule_delivery(delivery_id, serializer.validated_data, _trace(request))
        return _accepted(delivery_id, messages.RESCHEDULE)

    @_operation_schema(
        "Cancel a delivery", "Queues the cancellation.", None, (400, 503), "cancelDelivery"
    )
    def delete(self, request: Request, deliveryId: str) -> Response:
        delivery_id = _valid(DeliveryIdSerializer, "deliveryId", deliveryId)
        services.require_own_delivery(delivery_id, request.user)
        services.cancel_delivery(delivery_id, _trace(request))
        return _accepted(delivery_id, messages.CANCEL)


def _accepted(delivery_id: str, operation: str) -> Response:
    return Response(
        {"deliveryId": delivery_id, "operation": operation},
        status=status.HTTP_202_ACCEPTED,
        headers=_location(delivery_id),
    )
