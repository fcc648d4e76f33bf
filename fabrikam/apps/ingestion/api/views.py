from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrikam.apps.ingestion import messages, services
from fabrikam.apps.ingestion.api.serializers import (
    DeliveryRequestAcceptedSerializer,
    DeliveryRequestSerializer,
    OperationAcceptedSerializer,
    RescheduleSerializer,
)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="A retry with the same key and body returns the same deliveryId, queues nothing.",
)


def _location(delivery_id: str) -> dict[str, str]:
    return {"Location": f"/api/deliveries/{delivery_id}"}


class DeliveryRequestsView(APIView):
    @extend_schema(
        request=DeliveryRequestSerializer,
        responses={202: DeliveryRequestAcceptedSerializer},
        parameters=[IDEMPOTENCY_KEY],
        operation_id="requestDelivery",
    )
    def post(self, request: Request) -> Response:
        serializer = DeliveryRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delivery_id = services.request_delivery(
            serializer.validated_data,
            request.data,
            idempotency_key=request.headers.get("Idempotency-Key") or None,
        )
        body = {**messages.echo(serializer.validated_data), "deliveryId": delivery_id}
        return Response(body, status=status.HTTP_202_ACCEPTED, headers=_location(delivery_id))


class DeliveryRequestView(APIView):
    @extend_schema(
        request=RescheduleSerializer,
        responses={202: OperationAcceptedSerializer},
        operation_id="rescheduleDelivery",
    )
    def patch(self, request: Request, delivery_id: str) -> Response:
        serializer = RescheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.reschedule_delivery(delivery_id, serializer.validated_data)
        return Response(
            {"deliveryId": delivery_id, "operation": messages.RESCHEDULE},
            status=status.HTTP_202_ACCEPTED,
            headers=_location(delivery_id),
        )

    @extend_schema(
        request=None, responses={202: OperationAcceptedSerializer}, operation_id="cancelDelivery"
    )
    def delete(self, request: Request, delivery_id: str) -> Response:
        services.cancel_delivery(delivery_id)
        return Response(
            {"deliveryId": delivery_id, "operation": messages.CANCEL},
            status=status.HTTP_202_ACCEPTED,
            headers=_location(delivery_id),
        )
