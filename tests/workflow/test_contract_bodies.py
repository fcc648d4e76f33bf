"""Every body the saga sends another context is one of the contract's (`fabrikam.contract.bodies`),
field for field: run through the real services over HTTP (a live server), a delivery, its
reschedule and its cancel make all eight calls. The in-process path takes the same bodies from the
same client functions (tests/workflow/test_in_process_calls.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from fabrikam.apps.workflow import services
from fabrikam.contract import bodies
from fabrikam.interservice.http import ServiceClient
from tests.dronescheduler.factories import SEATTLE, DroneFactory, north_of
from tests.workflow.factories import DeliveryMessageFactory, cancel_message, reschedule_message

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True, databases="__all__")]

# (method, path) → the body the contract says that call takes.
CONTRACT = {
    ("PUT", "packages"): bodies.PackagePut,
    ("PATCH", "packages"): bodies.PackagePatch,
    ("PUT", "dronedeliveries"): bodies.DroneAssignment,
    ("PATCH", "dronedeliveries"): bodies.RouteChange,
    ("PUT", "deliveries"): bodies.DeliveryPut,
    ("PATCH", "deliveries"): bodies.DeliveryReschedule,
    ("DELETE", "deliveries"): bodies.DeliveryCancel,
}


@pytest.fixture
def sent(settings, live_server, redis_store, monkeypatch) -> list[tuple[str, str, Any]]:
    """The saga's calls over HTTP, recorded as (method, resource, body) and then made."""
    settings.FABRIKAM_ROLE = "all"
    settings.WORKFLOW_IN_PROCESS_CALLS = False
    for name in ("SERVICE_URL_PACKAGE", "SERVICE_URL_DRONESCHEDULER", "SERVICE_URL_DELIVERY"):
        setattr(settings, name, live_server.url)
    calls: list[tuple[str, str, Any]] = []
    real = ServiceClient.request

    def record(self: ServiceClient, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        calls.append((method, re.match(r"/api/(\w+)/", path)[1], body))
        return real(self, method, path, body, **kw)

    monkeypatch.setattr(ServiceClient, "request", record)
    return calls


def test_every_body_the_saga_sends_is_the_contracts(sent):
    drone = DroneFactory()
    message = DeliveryMessageFactory(
        pickup=SEATTLE.as_dict(),
        dropoff=north_of(SEATTLE, 2).as_dict(),
        deadline="2026-12-03T12:00:00Z",
        packageInfo={"packageId": "pkg-bodies", "size": "Small", "weight": 1.5, "tag": "b"},
    )
    delivery_id = message["deliveryId"]
    assert services.handle(message).drone_id == drone.id
    moved = reschedule_message(delivery_id, dropoff=north_of(SEATTLE, 3).as_dict())
    assert services.handle(moved).reason == "rescheduled"
    cancelled = services.handle(cancel_message(delivery_id))
    assert cancelled.status == services.Status.CANCELLED

    with_bodies = [(method, resource, body) for method, resource, body in sent if body]
    assert {(method, resource) for method, resource, _ in with_bodies} == set(CONTRACT)
    for method, resource, body in with_bodies:
        typed = CONTRACT[method, resource]
        assert typed.__required_keys__ <= body.keys() <= typed.__annotations__.keys(), (
            method,
            resource,
            sorted(body),
        )
