"""The workflow's two ways to reach the other contexts: over HTTP (separate deployments) and in
process (the `all` role). Each call, accepted or refused, must end the same way on both paths."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from fabrikam.apps.accounts import scopes, service_tokens
from fabrikam.apps.dronescheduler.models import Drone, DroneStatus
from fabrikam.apps.packages import selectors as packages
from fabrikam.apps.workflow import clients, services
from fabrikam.apps.workflow.in_process import InProcessClient
from fabrikam.interservice.http import DownstreamError, ServiceClient, client_for
from tests.dronescheduler.factories import SEATTLE, DroneFactory, assignment_body, north_of
from tests.support import auth

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True, databases="__all__")]

SERVICES = ("package", "dronescheduler", "delivery")


def internal() -> str:
    return service_tokens.authorization("workflow")


@pytest.fixture
def both(live_server: Any) -> Callable[..., dict[str, Any]]:
    """both(service, call) runs call(client, new_id) over HTTP and in process, each with an id of
    its own: the two outcomes, the id written as <id>."""

    def run(service: str, call: Callable[..., Any], authorization=internal) -> dict[str, Any]:
        http = client_for(service, live_server.url, authorization)
        local = InProcessClient(service, authorization)
        return {
            "http": outcome(lambda new_id: call(http, new_id)),
            "in_process": outcome(lambda new_id: call(local, new_id)),
        }

    return run


def outcome(call: Callable[[str], Any]) -> Any:
    """What the saga sees of a call: the status and body, or the error it raised."""
    new_id = uuid.uuid4().hex
    try:
        response = call(new_id)
    except DownstreamError as error:
        seen: tuple[Any, ...] = (type(error).__name__, error.status, error.detail)
    else:
        body = response.json() if response.content else None
        if isinstance(body, dict):  # ETAs depend on the moment of the call
            body = {k: v for k, v in body.items() if not k.endswith("ETA")}
        seen = ("answered", response.status_code, body)
    return json.loads(json.dumps(seen).replace(new_id, "<id>"))


def package_body(**changes: Any) -> dict[str, Any]:
    return {"size": "Small", "weight": 1.5, "tag": "books", "ownerId": "contoso", **changes}


# What a delivery message and the delivery PUT share (API.md).
TRIP = {
    "pickup": SEATTLE.as_dict(),
    "dropoff": north_of(SEATTLE, 2).as_dict(),
    "pickupTime": "2026-12-01T10:00:00Z",
    "deadline": "2026-12-01T12:00:00Z",
    "expedited": False,
    "confirmationRequired": "None",
}


def delivery_body(drone_id: str = "test-drone") -> dict[str, Any]:
    owner = {"userId": "contoso", "accountId": "contoso"}
    return {"owner": owner, **TRIP, "droneId": drone_id, "packageId": "pkg-1"}


# (what, service, method, path with {id} for a new id, body)
CALLS = [
    ("new package", "package", "put", "/api/packages/{id}", package_body()),
    ("negative weight", "package", "put", "/api/packages/{id}", package_body(weight=-1)),
    ("unknown size", "package", "put", "/api/packages/{id}", package_body(size="Huge")),
    ("mark a missing package", "package", "patch", "/api/packages/{id}", {"deliveryState": "X"}),
    ("no route", "dronescheduler", "put", "/api/dronedeliveries/{id}", {"ownerId": "contoso"}),
    ("too heavy", "dronescheduler", "put", "/api/dronedeliveries/{id}", assignment_body(weight=99)),
    ("replan a missing assignment", "dronescheduler", "patch", "/api/dronedeliveries/{id}",
     {"dropoff": SEATTLE.as_dict()}),
    ("release a missing assignment", "dronescheduler", "delete", "/api/dronedeliveries/{id}", None),
    ("new delivery", "delivery", "put", "/api/deliveries/{id}", delivery_body()),
    ("bad pickup", "delivery", "put", "/api/deliveries/{id}",
     {**delivery_body(), "pickup": "nowhere"}),
    ("cancel a missing delivery", "delivery", "delete", "/api/deliveries/{id}", None),
    ("bad deadline", "delivery", "patch", "/api/deliveries/{id}", {"deadline": "soon"}),
    ("bad delivery id", "delivery", "put", "/api/deliveries/not%20an%20id", delivery_body()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("service", "method", "path", "body"), [c[1:] for c in CALLS], ids=[c[0] for c in CALLS]
)
def test_a_call_ends_the_same_in_process_as_over_http(
    both, redis_store, service, method, path, body
):
    DroneFactory()

    def call(client: Any, new_id: str) -> Any:
        target = path.format(id=new_id)
        if body is None:
            return getattr(client, method)(target)
        return getattr(client, method)(target, body)

    outcomes = both(service, call)
    assert outcomes["in_process"] == outcomes["http"]


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("package", "/api/packages/pkg-1"),
        ("dronescheduler", "/api/dronedeliveries/d1"),
        ("delivery", "/api/deliveries/d1"),
    ],
)
def test_a_caller_without_the_internal_scope_is_refused_the_same_way(
    both, redis_store, service, path
):
    outcomes = both(
        service, lambda c, i: c.delete(path), lambda: f"Bearer {auth.token(scopes.READ)}"
    )
    assert outcomes["in_process"] == outcomes["http"]
    assert outcomes["http"][:2] == ["PermanentError", 403]


def test_the_nearest_drone_is_assigned_on_both_paths(both, redis_store):
    near = DroneFactory(at=north_of(SEATTLE, 1))
    DroneFactory(at=north_of(SEATTLE, 5))

    def assign_then_release(client: Any, delivery_id: str) -> Any:
        answer = client.put(f"/api/dronedeliveries/{delivery_id}", assignment_body())
        client.delete(f"/api/dronedeliveries/{delivery_id}")  # the same drone for the next path
        return answer

    outcomes = both("dronescheduler", assign_then_release)
    assert outcomes["in_process"] == outcomes["http"]
    assert outcomes["http"][2]["droneId"] == near.id


def message(package_id: str) -> dict[str, Any]:
    return {
        "operation": "delivery",
        "deliveryId": uuid.uuid4().hex,
        "ownerId": "contoso",
        **TRIP,
        "packageInfo": {"packageId": package_id, "size": "Small", "weight": 1.5, "tag": "b"},
    }


@pytest.mark.parametrize("in_process", [True, False], ids=["in process", "over HTTP"])
def test_the_saga_schedules_a_delivery_on_either_path(
    settings, live_server, redis_store, in_process
):
    settings.FABRIKAM_ROLE = "all"
    settings.WORKFLOW_IN_PROCESS_CALLS = in_process
    for name in ("SERVICE_URL_PACKAGE", "SERVICE_URL_DRONESCHEDULER", "SERVICE_URL_DELIVERY"):
        setattr(settings, name, live_server.url)
    drone = DroneFactory()
    kind = InProcessClient if in_process else ServiceClient
    assert all(isinstance(clients._client(s, live_server.url), kind) for s in SERVICES)

    outcome = services.handle(message("pkg-saga"))

    assert (outcome.status, outcome.drone_id) == (services.Status.COMPLETED, drone.id)
    assert packages.get_package("pkg-saga", "contoso").delivery_state == "InDelivery"
    assert Drone.objects.get(pk=drone.id).status == DroneStatus.ASSIGNED


def test_the_saga_compensates_a_refusal_on_either_path_alike(settings, live_server, redis_store):
    """No drone can carry it: the package written by the first step is marked back."""
    for name in ("SERVICE_URL_PACKAGE", "SERVICE_URL_DRONESCHEDULER", "SERVICE_URL_DELIVERY"):
        setattr(settings, name, live_server.url)
    settings.WORKFLOW_NO_DRONE_DEADLINE_SECONDS = 0
    DroneFactory(max_payload_kg=1.0)
    outcomes = {}
    for in_process in (True, False):
        settings.WORKFLOW_IN_PROCESS_CALLS = in_process
        package_id = f"pkg-heavy-{in_process}"
        result = services.handle(message(package_id))
        outcomes[in_process] = (
            result.status,
            result.reason,
            packages.get_package(package_id, "contoso").delivery_state,
        )
    assert outcomes[True] == outcomes[False]
    assert outcomes[True][0] == services.Status.COMPENSATED
    assert outcomes[True][2] == "NotInDelivery"  # the PATCH named the owner (?ownerId=)


@pytest.mark.parametrize(
    ("role", "flag", "expected"),
    [
        ("all", True, InProcessClient),
        ("all", False, ServiceClient),
        ("workflow", True, ServiceClient),
    ],
)
def test_only_a_process_serving_the_service_calls_it_in_process(settings, role, flag, expected):
    settings.FABRIKAM_ROLE = role
    settings.WORKFLOW_IN_PROCESS_CALLS = flag
    assert all(isinstance(clients._client(s, "http://127.0.0.1:9"), expected) for s in SERVICES)
