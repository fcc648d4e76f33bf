"""The delivery service's workflow writes as function calls, for a process that serves it and
runs the workflow too (`fabrikam.apps.workflow.in_process`): the PUT, PATCH and DELETE of
`views.DeliveryView` with the contract's bodies, read by the same request serializers (built once:
`run_validation` keeps no state in them) and the same service functions; errors are raised as the
view's are."""

from __future__ import annotations

from fabrikam.apps.common.serializers import shared
from fabrikam.apps.deliveries import services
from fabrikam.apps.deliveries.api.serializers import (
    CancelRequestSerializer,
    DeliveryRescheduleSerializer,
    DeliveryWriteSerializer,
)
from fabrikam.contract.bodies import DeliveryCancel, DeliveryPut, DeliveryReschedule
from fabrikam.contract.enums import DeliveryStage

PUT = shared(DeliveryWriteSerializer())
RESCHEDULE = shared(DeliveryRescheduleSerializer())
CANCEL = shared(CancelRequestSerializer())


def put_delivery(delivery_id: str, body: DeliveryPut) -> None:
    data = PUT.run_validation(body)
    if data["stage"] == DeliveryStage.CANCELLED.value:
        services.record_cancelled(delivery_id, PUT.details(data), data["reason"])
    else:
        services.store_delivery(delivery_id, PUT.details(data))


def reschedule_delivery(delivery_id: str, body: DeliveryReschedule) -> None:
    services.reschedule_delivery(delivery_id, RESCHEDULE.change(RESCHEDULE.run_validation(body)))


def cancel_delivery(delivery_id: str, body: DeliveryCancel | None) -> None:
    services.cancel_delivery(delivery_id, CANCEL.run_validation(body or {})["reason"])
