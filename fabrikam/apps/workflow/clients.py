"""Clients for the three services the saga calls: over HTTP as in the microservice deployment, or in
process, as function calls, where this process serves them too (`roles.calls_in_process`; see
`in_process`).

Each function is one idempotent call of the contract (API.md), its body typed by
`fabrikam.contract.bodies`."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from fabrikam import roles
from fabrikam.apps.accounts import service_tokens
from fabrikam.apps.workflow import in_process
from fabrikam.contract.bodies import (
    DeliveryCancel,
    DeliveryPut,
    DeliveryReschedule,
    DroneAssigned,
    DroneAssignment,
    PackagePatch,
    PackagePut,
    RouteChange,
)
from fabrikam.interservice.http import PermanentError, ServiceClient, client_for


def _local(name: str) -> bool:
    """Whether this process serves `name` and calls it in process."""
    return roles.calls_in_process(settings.FABRIKAM_ROLE, name)


@cache
def _client(name: str, base_url: str) -> ServiceClient:
    return client_for(name, base_url, service_tokens.authorization)


def packages() -> ServiceClient:
    return _client("package", settings.SERVICE_URL_PACKAGE)


def dronescheduler() -> ServiceClient:
    return _client("dronescheduler", settings.SERVICE_URL_DRONESCHEDULER)


def deliveries() -> ServiceClient:
    return _client("delivery", settings.SERVICE_URL_DELIVERY)


def _ignoring_not_found(call: Any, *args: Any) -> bool:
    """Run an undo call; a 404 means there was nothing to undo. Returns whether it existed."""
    try:
        call(*args)
    except PermanentError as error:
        if error.status == 404:
            return False
        raise
    return True


def put_package(package_id: str, body: PackagePut) -> None:
    if _local("package"):
        return in_process.put_package(package_id, body)
    packages().put(f"/api/packages/{package_id}", body)


def mark_package(package_id: str, owner_id: str, delivery_state: str) -> bool:
    """Package ids are unique per owner: the owner names which one (issue 16). An empty owner (a
    saga state recorded before owners were kept) leaves it to the package service, which takes
    the only package with the id."""
    if _local("package"):
        return _ignoring_not_found(in_process.mark_package, package_id, owner_id, delivery_state)
    query = f"?{urlencode({'ownerId': owner_id})}" if owner_id else ""
    body: PackagePatch = {"deliveryState": delivery_state}
    return _ignoring_not_found(packages().patch, f"/api/packages/{package_id}{query}", body)


def assign_drone(delivery_id: str, body: DroneAssignment) -> DroneAssigned:
    if _local("dronescheduler"):
        return in_process.assign_drone(delivery_id, body)
    return dronescheduler().put(f"/api/dronedeliveries/{delivery_id}", body).json()


def replan_drone(delivery_id: str, body: RouteChange) -> dict[str, Any]:
    if _local("dronescheduler"):
        return in_process.replan_drone(delivery_id, body)
    return dronescheduler().patch(f"/api/dronedeliveries/{delivery_id}", body).json()


def release_drone(delivery_id: str) -> bool:
    if _local("dronescheduler"):
        return _ignoring_not_found(in_process.release_drone, delivery_id)
    return _ignoring_not_found(dronescheduler().delete, f"/api/dronedeliveries/{delivery_id}")


def put_delivery(delivery_id: str, body: DeliveryPut) -> None:
    """Create or replace; with `stage: Cancelled` and a `reason`, store a request that ended
    before it was scheduled as cancelled, so its client can read why."""
    if _local("delivery"):
        return in_process.put_delivery(delivery_id, body)
    deliveries().put(f"/api/deliveries/{delivery_id}", body)


def reschedule_delivery(delivery_id: str, body: DeliveryReschedule) -> None:
    if _local("delivery"):
        return in_process.reschedule_delivery(delivery_id, body)
    deliveries().patch(f"/api/deliveries/{delivery_id}", body)


def cancel_delivery(delivery_id: str, reason: str = "") -> bool:
    """Cancel, keeping the reason; False when there was no delivery to cancel."""
    body: DeliveryCancel | None = {"reason": reason} if reason else None
    if _local("delivery"):
        return _ignoring_not_found(in_process.cancel_delivery, delivery_id, body)
    return _ignoring_not_found(deliveries().delete, f"/api/deliveries/{delivery_id}", body)
