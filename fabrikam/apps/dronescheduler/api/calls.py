"""The drone scheduler's assignment writes as function calls, for a process that serves it and
runs the workflow too (`fabrikam.apps.workflow.in_process`): the PUT, PATCH and DELETE of
`views.DroneDeliveryView` with the contract's bodies, read by the same request serializers (built
once: `run_validation` keeps no state in them) and the same service functions; the assignment's
answer in the JSON's formats; errors are raised as the view's are."""

from __future__ import annotations

from typing import Any

from fabrikam.apps.common.serializers import shared
from fabrikam.apps.dronescheduler import services
from fabrikam.apps.dronescheduler.api.serializers import (
    AssignmentRequestSerializer,
    AssignmentSerializer,
    ReplanSerializer,
)
from fabrikam.contract.bodies import DroneAssigned, DroneAssignment, RouteChange

ASSIGNMENT = shared(AssignmentRequestSerializer())
REPLAN = shared(ReplanSerializer())
ASSIGNED = shared(AssignmentSerializer())


def assign_drone(delivery_id: str, body: DroneAssignment) -> DroneAssigned:
    request = ASSIGNMENT.to_request(delivery_id, ASSIGNMENT.run_validation(body))
    return ASSIGNED.to_representation(services.assign_drone(request))


def replan_drone(delivery_id: str, body: RouteChange) -> dict[str, Any]:
    route = REPLAN.run_validation(body)
    return ASSIGNED.to_representation(services.replan_delivery(delivery_id, **route))


def release_drone(delivery_id: str) -> None:
    services.release_drone(delivery_id)
