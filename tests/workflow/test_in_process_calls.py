"""The workflow's two ways to reach the other contexts: over HTTP (separate deployments) and in
process (the `all` role: a function call, `fabrikam.apps.workflow.in_process`). Each call the saga
makes, accepted or refused, must end the same way on both paths."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import redis
from rest_framework import serializers
from rest_framework.views import APIView

from fabrikam.apps.accounts import scopes
from fabrikam.apps.deliveries import repository as delivery_store
from fabrikam.apps.deliveries import services as deliveries
from fabrikam.apps.deliveries.api.serializers import ConfirmationSerializer
from fabrikam.apps.dronescheduler.models import Drone, DroneStatus
from fabrikam.apps.packages import selectors as packages
from fabrikam.apps.workflow import clients, services
from fabrikam.interservice.http import DownstreamError
from tests.deliveries.factories import ConfirmationFactory
from tests.dronescheduler.factories import SEATTLE, DroneFactory, assignment_body, north_of
from tests.support import auth

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True, databases="__all__")]

SERVICES = ("package", "dronescheduler", "delivery")
URLS = ("SERVICE_URL_PACKAGE", "SERVICE_URL_DRONESCHEDULER", "SERVICE_URL_DELIVERY")


@pytest.fixture
def paths(settings, live_server) -> Callable[[bool], None]:
    """paths(in_process) makes the saga's clients call the contexts in process or over HTTP (the
    live server, in this process: what a test changes in a context holds on both paths)."""
    settings.FABRIKAM_ROLE = "all"
    for name in URLS:
        setattr(settings, name, live_server.url)

    def choose(in_process: bool) -> None:
        settings.WORKFLOW_IN_PROCESS_CALLS = in_process

    return choose


@pytest.fixture
def both(paths) -> Callable[[Callable[[str], Any]], dict[str, Any]]:
    """both(call) runs call(new_id) in process and over HTTP, each with an id of its own: the two
    outcomes, the id written as <id>."""

    def run(call: Callable[[str], Any]) -> dict[str, Any]:
        outcomes = {}
        for name, in_process in (("in_process", True), ("http", False)):
            paths(in_process)
            outcomes[name] = outcome(call)
        return outcomes

    return run


def outcome(call: Callable[[str], Any]) -> Any:
    """What the saga sees of a call: what it returned, or the error it raised with everything the
    saga reads of one."""
    new_id = uuid.uuid4().hex
    try:
        answer = call(new_id)
    except DownstreamError as error:
        seen: tuple[Any, ...] = (
            type(error).__name__,
            error.service,
            error.status,
            error.detail,
            error.problem_type,
            error.problem,
            error.retry_after,
        )
    else:
        if isinstance(answer, dict):  # ETAs depend on the moment of the call, the drone on the
            # drones the other path took (test_the_nearest_drone_is_assigned_on_both_paths)
            answer = {k: "<drone>" if k == "droneId" else v for k, v in answer.items()}
            answer = {k: v for k, v in answer.items() if not k.endswith("ETA")}
        seen = ("answered", answer)
    return json.loads(json.dumps(seen).replace(new_id, "<id>"))


def package_body(**changes: Any) -> dict[str, Any]:
    return {
        "size": "Small",
        "weight": 1.5,
        "tag": "books",
        "ownerId": "contoso",
        "deliveryState": "Registered",
        **changes,
    }


# What a delivery message and the delivery PUT share (API.md).
TRIP = {
    "pickup": SEATTLE.as_dict(),
    "dropoff": north_of(SEATTLE, 2).as_dict(),
    "pickupTime": "2026-12-01T10:00:00Z",
    "deadline": "2026-12-01T12:00:00Z",
    "expedited": False,
    "confirmationRequired": "None",
}


def delivery_body(drone_id: str = "test-drone", **changes: Any) -> dict[str, Any]:
    owner = {"userId": "contoso", "accountId": "contoso"}
    return {"owner": owner, **TRIP, "droneId": drone_id, "packageId": "pkg-1", **changes}


def then(*calls: Callable[[str], Any]) -> Callable[[str], Any]:
    """The calls in turn with the same id: the last one's outcome."""

    def run(new_id: str) -> Any:
        for call in calls[:-1]:
            call(new_id)
        return calls[-1](new_id)

    return run


# (what, the saga's call with a new id)
CALLS: list[tuple[str, Callable[[str], Any]]] = [
    ("new package", lambda i: clients.put_package(i, package_body())),
    ("a package again", then(
        lambda i: clients.put_package(i, package_body()),
        lambda i: clients.put_package(i, package_body(tag="again")),
    )),
    ("negative weight", lambda i: clients.put_package(i, package_body(weight=-1))),
    ("unknown size", lambda i: clients.put_package(i, package_body(size="Huge"))),
    ("no owner", lambda i: clients.put_package(i, {**package_body(), "ownerId": ""})),
    ("mark a package", then(
        lambda i: clients.put_package(i, package_body()),
        lambda i: clients.mark_package(i, "contoso", "InDelivery"),
    )),
    ("mark a package of no owner", then(
        lambda i: clients.put_package(i, package_body()),
        lambda i: clients.mark_package(i, "", "NotInDelivery"),
    )),
    ("mark a missing package (404)", lambda i: clients.mark_package(i, "contoso", "InDelivery")),
    ("mark an unknown state", then(
        lambda i: clients.put_package(i, package_body()),
        lambda i: clients.mark_package(i, "contoso", "Lost"),
    )),
    ("no route", lambda i: clients.assign_drone(i, {"ownerId": "contoso"})),
    ("assign", lambda i: clients.assign_drone(i, assignment_body())),
    ("assign twice", then(
        lambda i: clients.assign_drone(i, assignment_body()),
        lambda i: clients.assign_drone(i, assignment_body()),
    )),
    ("too heavy (422 unserviceable)",
     lambda i: clients.assign_drone(i, assignment_body(weight=99))),
    ("replan", then(
        lambda i: clients.assign_drone(i, assignment_body()),
        lambda i: clients.replan_drone(i, {"dropoff": north_of(SEATTLE, 3).as_dict()}),
    )),
    ("replan a missing assignment (404)",
     lambda i: clients.replan_drone(i, {"dropoff": SEATTLE.as_dict()})),
    ("release", then(
        lambda i: clients.assign_drone(i, assignment_body()),
        lambda i: clients.release_drone(i),
    )),
    ("replan a released assignment", then(
        lambda i: clients.assign_drone(i, assignment_body()),
        lambda i: clients.release_drone(i),
        lambda i: clients.replan_drone(i, {"dropoff": SEATTLE.as_dict()}),
    )),
    ("release a missing assignment (404)", lambda i: clients.release_drone(i)),
    ("new delivery", lambda i: clients.put_delivery(i, delivery_body())),
    ("a delivery stored cancelled", lambda i: clients.put_delivery(
        i, delivery_body(stage="Cancelled", reason="no drone"))),
    ("cancelled without a reason", lambda i: clients.put_delivery(
        i, delivery_body(stage="Cancelled"))),
    ("another owner's delivery", then(
        lambda i: clients.put_delivery(i, delivery_body()),
        lambda i: clients.put_delivery(
            i, {**delivery_body(), "owner": {"userId": "fabrikam", "accountId": "fabrikam"}}),
    )),
    ("bad pickup", lambda i: clients.put_delivery(i, {**delivery_body(), "pickup": "nowhere"})),
    ("reschedule", then(
        lambda i: clients.put_delivery(i, delivery_body()),
        lambda i: clients.reschedule_delivery(i, {"deadline": "2026-12-01T13:00:00Z"}),
    )),
    ("reschedule a missing delivery (404)",
     lambda i: clients.reschedule_delivery(i, {"deadline": "2026-12-01T13:00:00Z"})),
    ("bad deadline", then(
        lambda i: clients.put_delivery(i, delivery_body()),
        lambda i: clients.reschedule_delivery(i, {"deadline": "soon"}),
    )),
    ("cancel", then(
        lambda i: clients.put_delivery(i, delivery_body()),
        lambda i: clients.cancel_delivery(i, "changed my mind"),
    )),
    ("reschedule a cancelled delivery (409)", then(
        lambda i: clients.put_delivery(i, delivery_body()),
        lambda i: clients.cancel_delivery(i),
        lambda i: clients.reschedule_delivery(i, {"deadline": "2026-12-01T13:00:00Z"}),
    )),
    ("cancel a missing delivery (404)", lambda i: clients.cancel_delivery(i, "why")),
    ("bad delivery id", lambda i: clients.put_delivery(f"not an id {i}", delivery_body())),
]  # fmt: skip


@pytest.mark.parametrize("call", [c[1] for c in CALLS], ids=[c[0] for c in CALLS])
def test_a_call_ends_the_same_in_process_as_over_http(both, redis_store, call):
    DroneFactory()
    DroneFactory()  # "assign twice" needs one drone per path

    outcomes = both(call)

    assert outcomes["in_process"] == outcomes["http"]


def test_the_nearest_drone_is_assigned_on_both_paths(paths, redis_store):
    near = DroneFactory(at=north_of(SEATTLE, 1))
    DroneFactory(at=north_of(SEATTLE, 5))
    assigned = {}
    for in_process in (True, False):
        paths(in_process)
        delivery_id = uuid.uuid4().hex
        answer = clients.assign_drone(delivery_id, assignment_body())
        assert answer.keys() == {"droneId", "pickupETA", "deliveryETA"}
        assert all(answer[k].endswith("Z") for k in ("pickupETA", "deliveryETA"))  # as HTTP's
        assigned[in_process] = answer["droneId"]
        assert clients.release_drone(delivery_id)  # the same drone for the next path
    assert assigned == {True: near.id, False: near.id}


def completed(delivery_id: str) -> None:
    """The delivery handed over (its confirmation recorded): Completed."""
    confirmation = ConfirmationSerializer(data=ConfirmationFactory())
    confirmation.is_valid(raise_exception=True)
    deliveries.confirm_delivery(delivery_id, confirmation.confirmation())


def test_a_replayed_put_of_a_completed_delivery_is_a_409_naming_its_stage_on_both_paths(
    both, redis_store
):
    def replay(delivery_id: str) -> Any:
        clients.put_delivery(delivery_id, delivery_body())
        completed(delivery_id)
        return clients.put_delivery(delivery_id, delivery_body())

    outcomes = both(replay)

    assert outcomes["in_process"] == outcomes["http"]
    kind, _, status, _, _, problem, _ = outcomes["http"]
    assert (kind, status, problem["stage"]) == ("PermanentError", 409, "Completed")
    assert services._already_completed(
        DownstreamError("delivery", "PUT", "", status, "", problem=problem)
    )


def test_an_unserviceable_package_is_a_422_of_that_type_on_both_paths(both, redis_store):
    DroneFactory(max_payload_kg=1.0)

    outcomes = both(lambda i: clients.assign_drone(i, assignment_body(weight=5)))

    assert outcomes["in_process"] == outcomes["http"]
    kind, _, status, _, problem_type, _, _ = outcomes["http"]
    assert (kind, status) == ("PermanentError", 422)
    assert problem_type.rsplit("/", 1)[-1] == services.UNSERVICEABLE


def test_a_missing_delivery_is_a_404_on_both_paths(both, redis_store):
    outcomes = both(lambda i: clients.reschedule_delivery(i, {"deadline": "2026-12-01T13:00Z"}))

    assert outcomes["in_process"] == outcomes["http"]
    assert outcomes["http"][:3] == ["PermanentError", "delivery", 404]


def test_a_store_failure_is_transient_on_both_paths(both, redis_store, monkeypatch, settings):
    settings.HTTP_RETRY_ATTEMPTS = 1

    def store_down(*args: Any, **kwargs: Any) -> Any:
        raise redis.ConnectionError("Error 111 connecting to the delivery store")

    monkeypatch.setattr(delivery_store, "upsert", store_down)

    outcomes = both(lambda i: clients.put_delivery(i, delivery_body()))

    assert outcomes["in_process"] == outcomes["http"]
    assert outcomes["http"][:3] == ["TransientError", "delivery", 500]


def test_in_process_a_call_builds_no_view_and_no_serializer(paths, redis_store, monkeypatch):
    """The point of the in-process path: the service function, without the HTTP machinery."""
    paths(True)
    DroneFactory()
    built: list[str] = []
    real_init = serializers.BaseSerializer.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        built.append(type(self).__name__)
        real_init(self, *args, **kwargs)

    def no_view(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a view was dispatched")

    monkeypatch.setattr(serializers.BaseSerializer, "__init__", counting)
    monkeypatch.setattr(APIView, "dispatch", no_view)

    outcome = services.handle(message("pkg-direct"))

    assert outcome.status == services.Status.COMPLETED
    assert built == []


def test_the_http_path_still_refuses_a_caller_without_the_internal_scope(paths, monkeypatch):
    paths(False)
    clients._client.cache_clear()
    monkeypatch.setattr(
        "fabrikam.apps.accounts.service_tokens.authorization",
        lambda *a: f"Bearer {auth.token(scopes.READ)}",
    )
    try:
        with pytest.raises(DownstreamError) as refused:
            clients.release_drone("d1")
    finally:
        clients._client.cache_clear()
    assert refused.value.status == 403


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
    assert all(clients._local(s) is in_process for s in SERVICES)

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
    [("all", True, True), ("all", False, False), ("workflow", True, False)],
)
def test_only_a_process_serving_the_service_calls_it_in_process(settings, role, flag, expected):
    settings.FABRIKAM_ROLE = role
    settings.WORKFLOW_IN_PROCESS_CALLS = flag
    assert all(clients._local(s) is expected for s in SERVICES)
