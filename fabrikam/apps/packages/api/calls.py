"""The package service's writes as function calls, for a process that serves it and runs the
workflow too (`fabrikam.apps.workflow.in_process`): the PUT and PATCH of `views.PackageView` with
the contract's bodies, read by the same request serializer (built once: `run_validation` keeps no
state in it) and the same service functions; errors are raised as the view's are."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError

from fabrikam.apps.common.serializers import shared
from fabrikam.apps.packages import services
from fabrikam.apps.packages.api.serializers import PackagePatchSerializer, PackageWriteSerializer
from fabrikam.contract.bodies import PackagePut

PUT = shared(PackageWriteSerializer())
DELIVERY_STATE = PackagePatchSerializer(partial=True).fields["deliveryState"]


def put_package(package_id: str, body: PackagePut) -> None:
    fields = dict(PUT.run_validation(body))
    services.upsert_package(fields.pop("owner_id"), package_id, fields)


def mark_package(package_id: str, owner_id: str, delivery_state: str) -> None:
    """PATCH `{"deliveryState": ...}`; an empty owner is the view's `?ownerId=` left out (the only
    package with the id)."""
    try:
        state = DELIVERY_STATE.run_validation(delivery_state)
    except ValidationError as exc:  # named as the serializer names a field's error
        raise ValidationError({"deliveryState": exc.detail}) from exc
    services.update_package(owner_id or None, package_id, {"delivery_state": state})
