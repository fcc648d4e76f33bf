"""Every rule the ingestion enforces on its input: a 4xx problem+json naming what is wrong, and
nothing queued."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.ingestion.factories import DeliveryRequestFactory, RescheduleFactory

PROBLEM = "application/problem+json"
URL = "/api/deliveryrequests"


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    if field is not None:
        assert field in body["errors"], body
        assert all(isinstance(message, str) and message for message in body["errors"][field])
    return body


def without(path: str) -> dict[str, Any]:
    body = DeliveryRequestFactory()
    *parents, last = path.split(".")
    target = body
    for name in parents:
        target = target[name]
    del target[last]
    return body


@pytest.mark.parametrize(
    "field",
    [
        "ownerId",
        "pickupLocation",
        "dropOffLocation",
        "pickupTime",
        "packageInfo",
        "packageInfo.packageId",
        "packageInfo.size",
        "packageInfo.weight",
    ],
)
def test_a_missing_required_field_is_named(api, received, field):
    response = api.post(URL, without(field), format="json")
    body = assert_problem(response, 400, field)
    assert body["errors"][field] == ["This field is required."]
    assert field in body["detail"]
    assert received() == []


INVALID_FIELDS = [
    # wrong JSON types
    ({"ownerId": 123}, "ownerId"),
    ({"ownerId": ["contoso"]}, "ownerId"),
    ({"expedited": "yes"}, "expedited"),
    ({"expedited": 1}, "expedited"),
    ({"pickupLocation": 47.6}, "pickupLocation"),
    ({"pickupTime": 1767261600}, "pickupTime"),
    ({"packageInfo": "pkg-1"}, "packageInfo"),
    ({"packageInfo": {"packageId": 42, "size": "Small", "weight": 1}}, "packageInfo.packageId"),
    ({"packageInfo": {"packageId": "p", "size": "Small", "weight": "1.5"}}, "packageInfo.weight"),
    ({"packageInfo": {"packageId": "p", "size": "Small", "weight": True}}, "packageInfo.weight"),
    (
        {"packageInfo": {"packageId": "p", "size": "Small", "weight": 1, "tag": 7}},
        "packageInfo.tag",
    ),
    # ranges and lengths
    ({"ownerId": ""}, "ownerId"),
    ({"ownerId": "x" * 129}, "ownerId"),
    ({"packageInfo": {"packageId": "p", "size": "Small", "weight": 0}}, "packageInfo.weight"),
    ({"packageInfo": {"packageId": "p", "size": "Small", "weight": -2}}, "packageInfo.weight"),
    ({"packageInfo": {"packageId": "p", "size": "Small", "weight": 100.5}}, "packageInfo.weight"),
    (
        {"packageInfo": {"packageId": "pkg 42", "size": "Small", "weight": 1}},
        "packageInfo.packageId",
    ),
    (
        {"packageInfo": {"packageId": "p" * 129, "size": "Small", "weight": 1}},
        "packageInfo.packageId",
    ),
    (
        {"packageInfo": {"packageId": "p", "size": "Small", "weight": 1, "tag": "t" * 101}},
        "packageInfo.tag",
    ),
    ({"dropOffLocation": {"latitude": 90.5, "longitude": 0}}, "dropOffLocation.latitude"),
    ({"dropOffLocation": {"latitude": 0, "longitude": -180.5}}, "dropOffLocation.longitude"),
    ({"pickupLocation": "91,10"}, "pickupLocation.latitude"),
    ({"dropOffLocation": {"longitude": 10}}, "dropOffLocation.latitude"),
    # enums
    ({"confirmationRequired": "Signature"}, "confirmationRequired"),
    ({"confirmationRequired": 1}, "confirmationRequired"),
    ({"packageInfo": {"packageId": "p", "size": "Huge", "weight": 1}}, "packageInfo.size"),
    ({"packageInfo": {"packageId": "p", "size": 2, "weight": 1}}, "packageInfo.size"),
    # dates
    ({"pickupTime": "tomorrow"}, "pickupTime"),
    ({"pickupTime": "2026-02-30T10:00:00Z"}, "pickupTime"),
    ({"pickupTime": "2026-12-01"}, "pickupTime"),
    ({"pickupTime": ""}, "pickupTime"),
    ({"deadline": "soon"}, "deadline"),
    # strings where numbers belong (the schema says number)
    ({"pickupLocation": {"latitude": "47.6", "longitude": -122.3}}, "pickupLocation.latitude"),
    ({"dropOffLocation": {"latitude": 47.6, "longitude": "-122.3"}}, "dropOffLocation.longitude"),
    (
        {"pickupLocation": {"latitude": 47.6, "longitude": 1, "altitude": "0"}},
        "pickupLocation.altitude",
    ),
    # what "lat,lon" cannot be
    ({"pickupLocation": "nan,0"}, "pickupLocation"),
    ({"pickupLocation": "1e1,0"}, "pickupLocation"),
    ({"pickupLocation": "0,181"}, "pickupLocation.longitude"),
]


@pytest.mark.parametrize(("change", "field"), INVALID_FIELDS)
def test_an_invalid_field_is_named(api, received, change, field):
    response = api.post(URL, DeliveryRequestFactory(**change), format="json")
    assert_problem(response, 400, field)
    assert received() == []


def test_a_deadline_before_the_pickup_is_a_422_naming_it(api, received):
    body = DeliveryRequestFactory(deadline="2026-12-01T09:59:59Z")  # pickup 10:00
    problem = assert_problem(api.post(URL, body, format="json"), 422, "deadline")
    assert problem["errors"]["deadline"] == ["The deadline is before the pickup time."]
    assert received() == []


def test_an_empty_deadline_is_no_deadline(api, received):
    response = api.post(URL, DeliveryRequestFactory(deadline=""), format="json")
    assert response.status_code == 202, response.content
    assert response.json()["deadline"] is None


@pytest.mark.parametrize(
    "place", ["Seattle, WA", "Pike Place Market", "47.6N 122.3W", "1,2,3,4", "", "47.6,"]
)
def test_a_free_text_location_asks_for_coordinates(api, received, place):
    response = api.post(URL, DeliveryRequestFactory(pickupLocation=place), format="json")
    body = assert_problem(response, 400, "pickupLocation")
    assert "coordinates" in body["errors"]["pickupLocation"][0]
    assert received() == []


def test_a_bad_enum_value_lists_the_valid_ones(api, received):
    body = DeliveryRequestFactory(confirmationRequired="Signature", packageInfo__size="Huge")
    errors = assert_problem(api.post(URL, body, format="json"), 400)["errors"]
    assert errors["confirmationRequired"] == [
        '"Signature" is not one of FingerPrint, Picture, Voice, None.'
    ]
    assert errors["packageInfo.size"] == ['"Huge" is not one of Small, Medium, Large.']
    assert received() == []


def test_every_invalid_field_is_reported_at_once(api, received):
    body = DeliveryRequestFactory(ownerId="", pickupTime="never", packageInfo__weight=0)
    errors = assert_problem(api.post(URL, body, format="json"), 400)["errors"]
    assert set(errors) == {"ownerId", "pickupTime", "packageInfo.weight"}


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b'{"ownerId": "contoso",', 400),  # truncated
        (b"not json", 400),
        (b'{"ownerId": NaN}', 400),  # JSON has no NaN
        (b"\xff\xfe{}", 400),  # not UTF-8
        (b"[1, 2]", 400),
        (b'"a string"', 400),
        (b"null", 400),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400(api, received, raw, status):
    response = api.generic("POST", URL, raw, content_type="application/json")
    assert_problem(response, status)
    assert received() == []


def test_a_body_over_the_size_limit_is_a_413(api, received, settings):
    body = DeliveryRequestFactory(padding="x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    response = api.generic("POST", URL, json.dumps(body), content_type="application/json")
    problem = assert_problem(response, 413)
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in problem["detail"]
    assert received() == []


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data"],
)
def test_a_body_that_is_not_json_is_a_415(api, received, content_type):
    raw = json.dumps(DeliveryRequestFactory())
    body = assert_problem(api.generic("POST", URL, raw, content_type=content_type), 415)
    assert "application/json" in body["detail"]
    assert received() == []


def test_a_body_without_a_content_type_is_a_415(api, received):
    raw = json.dumps(DeliveryRequestFactory())
    body = assert_problem(api.generic("POST", URL, raw, content_type=""), 415)
    assert "Content-Type: application/json" in body["detail"]
    assert received() == []


@pytest.mark.parametrize("key", ["k" * 256, "has space", "naïve", ""])
def test_a_malformed_idempotency_key_is_named(api, received, key):
    response = api.post(
        URL, DeliveryRequestFactory(), format="json", headers={"Idempotency-Key": key}
    )
    assert_problem(response, 400, "Idempotency-Key")
    assert received() == []


def test_get_is_not_allowed(api):
    assert_problem(api.get(URL), 405)


# --- reschedule (PATCH) and cancel (DELETE) ---

DELIVERY = f"{URL}/3f2b8c0e1d4a4b6c9e7f0a1b2c3d4e5f"


def test_a_reschedule_needs_at_least_one_field(api, received):
    body = assert_problem(api.patch(DELIVERY, {}, format="json"), 400, "body")
    assert "pickupTime" in body["errors"]["body"][0]
    assert received() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pickupLocation": "the warehouse"}, "pickupLocation"),
        ({"dropOffLocation": {"latitude": -91, "longitude": 0}}, "dropOffLocation.latitude"),
        ({"pickupTime": "next week"}, "pickupTime"),
        ({"deadline": 5}, "deadline"),
    ],
)
def test_an_invalid_reschedule_field_is_named(api, received, change, field):
    assert_problem(api.patch(DELIVERY, change, format="json"), 400, field)
    assert received() == []


def test_a_reschedule_with_its_deadline_before_its_pickup_is_a_422(api, received):
    change = RescheduleFactory(pickupTime="2026-12-02T10:00:00Z", deadline="2026-12-02T09:00:00Z")
    assert_problem(api.patch(DELIVERY, change, format="json"), 422, "deadline")
    assert received() == []


def test_a_reschedule_that_is_not_json_is_a_415(api, received):
    raw = json.dumps(RescheduleFactory())
    assert_problem(api.generic("PATCH", DELIVERY, raw, content_type="text/plain"), 415)
    assert received() == []


@pytest.mark.parametrize("delivery_id", ["has space", "x" * 129, "semi;colon", "quote'"])
@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_malformed_delivery_id_is_named(api, received, method, delivery_id):
    response = getattr(api, method)(f"{URL}/{delivery_id}", RescheduleFactory(), format="json")
    assert_problem(response, 400, "deliveryId")
    assert received() == []
