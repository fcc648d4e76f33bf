from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrikam.apps.accounts.permissions import (
    BACK_OFFICE,
    OWNER_READ,
    SERVICE,
    hide_unless_owner,
)
from fabrikam.apps.common.summary import OwnerSummaryAPIView
from fabrikam.apps.dronescheduler import selectors, services
from fabrikam.apps.dronescheduler.api.serializers import (
    AssignmentRequestSerializer,
    AssignmentSerializer,
    DroneDeliverySerializer,
    DroneSerializer,
    ReplanSerializer,
    UtilizationQuerySerializer,
    UtilizationSerializer,
)
from fabrikam.apps.dronescheduler.exceptions import DroneDeliveryNotFound
from fabrikam.apps.dronescheduler.models import Drone
from fabrikam.web.openapi import problems

RELEASED = "The delivery's drone was released (cancelled or compensated): request a new delivery."


class DroneDeliveryView(APIView):
    # Assignments are made, re-planned and released by the workflow only.
    required_scopes = {"GET": OWNER_READ, "PUT": SERVICE, "PATCH": SERVICE, "DELETE": SERVICE}

    @extend_schema(responses=DroneDeliverySerializer, operation_id="getDroneDelivery")
    def get(self, request: Request, delivery_id: str) -> Response:
        assignment = selectors.get_drone_delivery(delivery_id)
        hide_unless_owner(
            request,
            assignment.owner_id,
            DroneDeliveryNotFound.unassigned(delivery_id),
        )
        return Response(DroneDeliverySerializer(assignment).data)

    @extend_schema(
        request=AssignmentRequestSerializer,
        responses={
            200: AssignmentSerializer,
            **problems(
                409,
                410,
                422,
                s409="No drone can take it now (the saga retries).",
                s410=RELEASED,
                s422="No drone of the fleet could ever serve it (`unserviceable`: too heavy, too "
                "large or out of reach); the saga gives up at once.",
            ),
        },
        operation_id="assignDrone",
    )
    def put(self, request: Request, delivery_id: str) -> Response:
        serializer = AssignmentRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignment = services.assign_drone(serializer.to_request(delivery_id))
        return Response(AssignmentSerializer(assignment).data)

    @extend_schema(
        request=ReplanSerializer,
        responses={
            200: AssignmentSerializer,
            **problems(409, s409="The route can no longer change (picked up, or released)."),
        },
        operation_id="replanDrone",
    )
    def patch(self, request: Request, delivery_id: str) -> Response:
        serializer = ReplanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignment = services.replan_delivery(delivery_id, **serializer.validated_data)
        return Response(AssignmentSerializer(assignment).data)

    @extend_schema(responses={200: DroneDeliverySerializer}, operation_id="releaseDrone")
    def delete(self, request: Request, delivery_id: str) -> Response:
        return Response(DroneDeliverySerializer(services.release_drone(delivery_id)).data)


@extend_schema_view(
    get=extend_schema(
        parameters=[UtilizationQuerySerializer],
        responses=UtilizationSerializer,
        operation_id="getUtilization",
    )
)
class UtilizationView(OwnerSummaryAPIView):
    query_serializer_class = UtilizationQuerySerializer
    summary_serializer_class = UtilizationSerializer

    def summarize(self, query: UtilizationQuerySerializer) -> selectors.Utilization:
        return selectors.utilization(query.validated_data["ownerId"], *query.window())


class DroneListView(ListAPIView):
    required_scopes = {"GET": BACK_OFFICE}
    serializer_class = DroneSerializer
    queryset = Drone.objects.order_by("id")


class DroneDetailView(RetrieveAPIView):
    required_scopes = {"GET": BACK_OFFICE}
    serializer_class = DroneSerializer
    queryset = Drone.objects.all()
    lookup_url_kwarg = "drone_id"
