"""PUT, GET (full, public, owner) of a delivery, validation and unknown ids."""

from __future__ import annotations

import pytest

from tests.deliveries.conftest import stages
from tests.deliveries.factories import (
    ConfirmationFactory,
    DeliveryBodyFactory,
    FlightUpdateFactory,
    LocationFactory,
    delivery_id,
)

pytestmark = [pytest.mark.redis]


def test_put_creates_a_delivery_that_reads_back_as_sent(api, redis_store):
    new_id = delivery_id()
    body = DeliveryBodyFactory(
        expedited=True, confirmationRequired="Picture", pickup="47.6097,-122.3331"
    )

    created = api.put(f"/api/deliveries/{new_id}", body, format="json")

    assert created.status_code == 201
    stored = api.get(f"/api/deliveries/{new_id}").json()
    assert stored == created.json()
    assert stored == {
        "id": new_id,
        "owner": body["owner"],
        "pickup": {"latitude": 47.6097, "longitude": -122.3331, "altitude": 0.0},
        "dropoff": body["dropoff"],
        "pickupTime": "2026-12-01T10:00:00Z",
        "deadline": "2026-12-01T12:00:00Z",
        "expedited": True,
        "confirmationRequired": "Picture",
        "droneId": body["droneId"],
        "packageId": body["packageId"],
        "stage": "Created",
        "reason": None,
    }


def test_created_event_is_at_the_pickup(api, create):
    new_id, body = create()
    (event,) = api.get(f"/api/deliveries/{new_id}/events").json()
    assert event["stage"] == "Created"
    assert event["location"] == body["pickup"]


def test_put_again_replaces_without_a_second_created_event(api, create):
    new_id, body = create()
    changed = {**body, "droneId": "drone-9999", "deadline": ""}

    replaced = api.put(f"/api/deliveries/{new_id}", changed, format="json")

    assert replaced.status_code == 200
    assert replaced.json()["droneId"] == "drone-9999"
    assert replaced.json()["deadline"] is None
    assert api.get(f"/api/deliveries/{new_id}").json() == replaced.json()
    assert stages(api, new_id) == ["Created"]


def test_a_delivery_keeps_its_owner(api, create):
    new_id, body = create()
    other = {**body, "owner": {"userId": "someone-else", "accountId": "x"}}

    response = api.put(f"/api/deliveries/{new_id}", other, format="json")

    assert response.status_code == 409
    assert "owner.userId" in response.json()["errors"]
    assert api.get(f"/api/deliveries/{new_id}/owner").json() == body["owner"]


def test_public_view_has_no_owner(api, create):
    new_id, body = create()
    public = api.get(f"/api/deliveries/public/{new_id}").json()
    assert "owner" not in public
    assert public["packageId"] == body["packageId"]


def test_mixed_case_paths_of_the_reference_work(api, create):
    new_id, _ = create()
    assert api.get(f"/api/Deliveries/{new_id}/Status").status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pickup", "Space Needle, Seattle"),
        ("dropoff", {"latitude": 91, "longitude": 0}),
        ("confirmationRequired", "Signature"),
        ("pickupTime", "tomorrow"),
        ("deadline", "soon"),
        ("pickupETA", "not a time"),
        ("owner", {"userId": "only-user"}),
        ("expedited", "maybe"),
        # the JSON type the schema names, not one DRF would convert (issue 16)
        ("expedited", "true"),
        ("expedited", 1),
        ("owner", {"userId": 42, "accountId": "a"}),
        ("pickup", {"latitude": "47.6", "longitude": -122.3}),
        ("pickupTime", "2026-12-01"),
        ("droneId", 7),
    ],
)
def test_bad_fields_are_a_400_naming_the_field(api, redis_store, field, value):
    new_id = delivery_id()
    body = DeliveryBodyFactory(**{field: value})

    response = api.put(f"/api/deliveries/{new_id}", body, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert any(name.startswith(field) for name in response.json()["errors"])
    assert api.get(f"/api/deliveries/{new_id}").status_code == 404  # nothing half-written
    assert redis_store.dbsize() == 0


def test_malformed_json_is_a_400(api, redis_store):
    response = api.put(
        f"/api/deliveries/{delivery_id()}", "{not json", content_type="application/json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "", None),
        ("get", "/status", None),
        ("get", "/events", None),
        ("get", "/owner", None),
        ("patch", "", {"deadline": "2026-12-02T00:00:00Z"}),
        ("delete", "", None),
        ("post", "/confirmations", ConfirmationFactory()),
        ("post", "/notifymerequests", {"emailAddress": "a@example.com"}),
        ("post", "/tracking", FlightUpdateFactory()),
    ],
)
def test_unknown_ids_are_404(api, redis_store, method, path, body):
    url = f"/api/deliveries/{delivery_id()}{path}"

    response = getattr(api, method)(url, body, format="json")

    assert response.status_code == 404
    assert response.json()["title"] == "Delivery not found"
    assert redis_store.dbsize() == 0


def test_public_of_unknown_id_is_404(api, redis_store):
    assert api.get(f"/api/deliveries/public/{delivery_id()}").status_code == 404


def test_put_accepts_the_assignment_etas_and_status_reports_them(api, redis_store):
    new_id = delivery_id()
    body = DeliveryBodyFactory(pickupETA="2026-12-01T10:04:00Z", deliveryETA="2026-12-01T10:19:00Z")
    api.put(f"/api/deliveries/{new_id}", body, format="json")

    status = api.get(f"/api/deliveries/{new_id}/status").json()

    assert status == {
        "stage": "Created",
        "lastKnownLocation": body["pickup"],
        "pickupETA": "2026-12-01T10:04:00Z",
        "deliveryETA": "2026-12-01T10:19:00Z",
        "reason": None,
    }


def test_coordinates_keep_their_precision(api, redis_store):
    new_id = delivery_id()
    pickup = LocationFactory(latitude=47.123456789012, longitude=-122.98765432101, altitude=12.5)
    api.put(f"/api/deliveries/{new_id}", DeliveryBodyFactory(pickup=pickup), format="json")
    assert api.get(f"/api/deliveries/{new_id}").json()["pickup"] == pickup
