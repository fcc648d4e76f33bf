"""The delivery service's HTTP API (API.md "Deliveries"): parse, call a service, render."""

from __future__ import annotations

import functools
import re

from django.http import StreamingHttpResponse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrikam.apps.accounts.permissions import (
    OWNER_READ,
    OWNER_WRITE,
    SERVICE,
    hide_unless_owner,
)
from fabrikam.apps.accounts.throttles import ThrottledWithRead
from fabrikam.apps.common.serializers import shared
from fabrikam.apps.common.summary import OwnerSummaryAPIView
from fabrikam.apps.deliveries import selectors, services
from fabrikam.apps.deliveries.api.renderers import EventStreamRenderer
from fabrikam.apps.deliveries.api.serializers import (
    CancellationSerializer,
    CancelRequestSerializer,
    ConfirmationSerializer,
    DeliveryEventSerializer,
    DeliveryRescheduleSerializer,
    DeliverySerializer,
    DeliveryStatusSerializer,
    DeliveryWriteSerializer,
    FlightUpdateSerializer,
    NotifyMeSerializer,
    OwnerSerializer,
    PublicDeliverySerializer,
    SummaryQuerySerializer,
    SummarySerializer,
)
from fabrikam.apps.deliveries.api.stream import EventStream, LiveEventStream
from fabrikam.apps.deliveries.exceptions import DeliveryNotFound
from fabrikam.apps.deliveries.records import Delivery
from fabrikam.server import wsgi_bridge
from fabrikam.web.openapi import problems

# Built once (a third of a status read's CPU was building it): see `shared`.
STATUS = shared(DeliveryStatusSerializer())
RESUME_POINT = re.compile(r"^ *([0-9]*) *$")  # Last-Event-ID: an offset >= 0, or empty for none
CLOSED = "The delivery is completed or cancelled (or changed concurrently: retry)."


def _own_delivery(request: Request, delivery_id: str) -> Delivery:
    """The delivery, if the caller may see it; another business's is a 404 like a missing one."""
    delivery = selectors.get_delivery(delivery_id)
    hide_unless_owner(request, delivery.owner.account_id, DeliveryNotFound(delivery_id))
    return delivery


class DeliveryView(APIView):
    # Writes come from the workflow; a business changes a delivery through the ingestion.
    required_scopes = {"GET": OWNER_READ, "PUT": SERVICE, "PATCH": SERVICE, "DELETE": SERVICE}

    @extend_schema(responses=DeliverySerializer, operation_id="getDelivery")
    def get(self, request: Request, delivery_id: str) -> Response:
        return Response(DeliverySerializer(_own_delivery(request, delivery_id)).data)

    @extend_schema(
        request=DeliveryWriteSerializer,
        responses={
            200: DeliverySerializer,
            201: DeliverySerializer,
            **problems(
                409,
                422,
                s409="The delivery belongs to another owner, or is closed.",
                s422="Stored `Cancelled` without a `reason`.",
            ),
        },
        operation_id="putDelivery",
    )
    def put(self, request: Request, delivery_id: str) -> Response:
        serializer = DeliveryWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.cancelled:
            delivery, created = services.record_cancelled(
                delivery_id, serializer.details(), serializer.validated_data["reason"]
            )
        else:
            delivery, created = services.schedule_delivery(delivery_id, serializer.details())
        return Response(
            DeliverySerializer(delivery).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        request=DeliveryRescheduleSerializer,
        responses={200: DeliverySerializer, **problems(409, s409=CLOSED)},
        operation_id="patchDelivery",
    )
    def patch(self, request: Request, delivery_id: str) -> Response:
        serializer = DeliveryRescheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delivery = services.reschedule_delivery(delivery_id, serializer.change())
        return Response(DeliverySerializer(delivery).data)

    @extend_schema(
        request=CancelRequestSerializer,
        responses={200: CancellationSerializer, **problems(409, s409=CLOSED)},
        operation_id="deleteDelivery",
    )
    def delete(self, request: Request, delivery_id: str) -> Response:
        serializer = CancelRequestSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"]
        return Response(CancellationSerializer(services.cancel_delivery(delivery_id, reason)).data)


class PublicDeliveryView(APIView):
    """For the customer's tracking link: no owner data; the id (a random UUID) is the secret."""

    permission_classes = [AllowAny]

    @extend_schema(responses=PublicDeliverySerializer, operation_id="getPublicDelivery")
    def get(self, request: Request, delivery_id: str) -> Response:
        return Response(PublicDeliverySerializer(selectors.get_delivery(delivery_id)).data)


class DeliveryOwnerView(APIView):
    required_scopes = {"GET": OWNER_READ}

    @extend_schema(responses=OwnerSerializer, operation_id="getDeliveryOwner")
    def get(self, request: Request, delivery_id: str) -> Response:
        return Response(OwnerSerializer(_own_delivery(request, delivery_id).owner).data)


class DeliveryStatusView(ThrottledWithRead, APIView):
    required_scopes = {"GET": OWNER_READ}
    owner_only = True

    @extend_schema(responses=DeliveryStatusSerializer, operation_id="getDeliveryStatus")
    def get(self, request: Request, delivery_id: str) -> Response:
        # The throttles' hits and the delivery's read in one round trip to Redis.
        along = functools.partial(self.throttled_read, request)
        account_id, status = selectors.owner_and_status(delivery_id, along)  # read once, for both
        if self.owner_only:
            hide_unless_owner(request, account_id, DeliveryNotFound(delivery_id))
        return Response(STATUS.to_representation(status))


class DeliveryEventsView(APIView):
    required_scopes = {"GET": OWNER_READ}
    owner_only = True

    @extend_schema(responses=DeliveryEventSerializer(many=True), operation_id="getDeliveryEvents")
    def get(self, request: Request, delivery_id: str) -> Response:
        if self.owner_only:
            _own_delivery(request, delivery_id)
        events = selectors.delivery_events(delivery_id)
        return Response(DeliveryEventSerializer(events, many=True).data)


@extend_schema_view(get=extend_schema(operation_id="getPublicDeliveryStatus"))
class PublicDeliveryStatusView(DeliveryStatusView):
    """The tracking page's status, when it polls instead of streaming: no owner data."""

    permission_classes = [AllowAny]
    owner_only = False


@extend_schema_view(get=extend_schema(operation_id="getPublicDeliveryEvents"))
class PublicDeliveryEventsView(DeliveryEventsView):
    """The tracking page's events, when it polls instead of streaming."""

    permission_classes = [AllowAny]
    owner_only = False


class DeliveryStreamView(APIView):
    """Server-Sent Events of the delivery's tracking events and status, for the tracking page:
    public like the page (no owner data; the random id is the secret)."""

    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, EventStreamRenderer]

    @extend_schema(
        operation_id="streamDeliveryStatus",
        parameters=[
            OpenApiParameter(
                "Last-Event-ID",
                {"type": "string", "pattern": RESUME_POINT.pattern},
                OpenApiParameter.HEADER,
                description="resume after this tracking event (its offset, as sent in `id:`)",
            )
        ],
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                description="`event: tracking` (id = offset), `event: status`, `event: end`"
            ),
            **problems(
                503,
                s503="Too many open streams on this server, or live tracking is unavailable; "
                "retry after Retry-After.",
            ),
        },
    )
    def get(self, request: Request, delivery_id: str) -> StreamingHttpResponse:
        next_event = _resume_point(request.headers.get("Last-Event-ID", ""))
        selectors.get_delivery(delivery_id)
        # Under our server the body is sent from its event loop and holds no thread.
        live = request.META.get(wsgi_bridge.ASYNC_STREAMS, False)
        events = (LiveEventStream if live else EventStream)(delivery_id, next_event)
        response = StreamingHttpResponse(events, content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # proxies such as nginx: pass each event on at once
        return response


def _resume_point(last_event_id: str) -> int:
    """The offset of the first event to send: one after `Last-Event-ID`, 0 without one (an empty
    header is none, as for an EventSource). Only ASCII digits: int() would also take "+5" or "5_0",
    which the schema's pattern does not."""
    match = RESUME_POINT.match(last_event_id)
    if match is None:
        raise serializers.ValidationError(
            {"Last-Event-ID": ["The id of the last event received: an integer >= 0."]}
        )
    return int(match[1]) + 1 if match[1] else 0


class TrackingView(APIView):
    """Internal: the drone scheduler's flight updates. Older updates than the last are ignored."""

    required_scopes = {"POST": SERVICE}

    @extend_schema(
        request=FlightUpdateSerializer,
        responses={204: None, **problems(409, s409=CLOSED)},
        operation_id="track",
    )
    def post(self, request: Request, delivery_id: str) -> Response:
        serializer = FlightUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.record_flight_update(delivery_id, serializer.update_record())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConfirmationsView(APIView):
    """The handover's proof, recorded by the fleet's side (internal), not by the business."""

    required_scopes = {"POST": SERVICE}

    @extend_schema(
        request=ConfirmationSerializer,
        responses={
            200: DeliverySerializer,
            **problems(
                409,
                422,
                s409="Already confirmed, or the delivery is closed.",
                s422="The confirmation's type is not the one the delivery requires.",
            ),
        },
        operation_id="confirm",
    )
    def post(self, request: Request, delivery_id: str) -> Response:
        serializer = ConfirmationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delivery = services.confirm_delivery(delivery_id, serializer.confirmation())
        return Response(DeliverySerializer(delivery).data)


class NotifyMeRequestsView(APIView):
    required_scopes = {"POST": OWNER_WRITE}

    @extend_schema(
        request=NotifyMeSerializer,
        responses={
            204: None,
            **problems(409, s409="The delivery has all the notify-me requests it may hold."),
        },
        operation_id="notifyMe",
    )
    def post(self, request: Request, delivery_id: str) -> Response:
        _own_delivery(request, delivery_id)
        serializer = NotifyMeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.request_notification(delivery_id, serializer.request_record())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(
        parameters=[SummaryQuerySerializer],
        responses=SummarySerializer,
        operation_id="getDeliverySummary",
    )
)
class SummaryView(OwnerSummaryAPIView):
    query_serializer_class = SummaryQuerySerializer
    summary_serializer_class = SummarySerializer

    def summarize(self, query: SummaryQuerySerializer) -> dict[str, int]:
        return {"count": selectors.owner_month_count(**query.validated_data)}
