from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrikam.apps.deliveries import selectors, services
from fabrikam.apps.deliveries.api.serializers import (
    DeliveryEventSerializer,
    DeliverySerializer,
    DeliveryWriteSerializer,
)


class DeliveryView(APIView):
    @extend_schema(responses=DeliverySerializer, operation_id="getDelivery")
    def get(self, request: Request, delivery_id: str) -> Response:
        return Response(DeliverySerializer(selectors.get_delivery(delivery_id)).data)

    @extend_schema(
        request=DeliveryWriteSerializer,
        responses={200: DeliverySerializer, 201: DeliverySerializer},
        operation_id="putDelivery",
    )
    def put(self, request: Request, delivery_id: str) -> Response:
        serializer = DeliveryWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delivery, created = services.schedule_delivery(delivery_id, serializer.to_document())
        return Response(
            DeliverySerializer(delivery).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class DeliveryEventsView(APIView):
    @extend_schema(responses=DeliveryEventSerializer(many=True), operation_id="getDeliveryEvents")
    def get(self, request: Request, delivery_id: str) -> Response:
        events = selectors.delivery_events(delivery_id)
        return Response(DeliveryEventSerializer(events, many=True).data)
