"""The OpenAPI document says what the server does (issue 16): every problem an operation can
answer, every field that can be null, every constraint the server enforces."""

from __future__ import annotations

import re

import pytest

from tests.deliveries.factories import DeliveryBodyFactory, delivery_id

PROBLEM = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture
def schema(anonymous_api) -> dict:
    response = anonymous_api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_documents_the_problems_its_shape_can_answer(schema):
    found = operations(schema)
    assert len(found) > 25
    for path, method, operation in found:
        responses = operation["responses"]
        expected = {"401", "403", "429", "503"}  # authentication, throttling, the token issuer
        if "{" in path:
            expected.add("404")
        if "requestBody" in operation:
            expected |= {"400", "413", "415"}
            assert operation["requestBody"]["required"] is True, (method, path)
        for status in expected:
            assert status in responses, (method, path, status)
            assert responses[status]["content"] == {PROBLEM: {"schema": PROBLEM_REF}}, status
        assert set(responses["414"]["content"]) == {"text/html"}  # gunicorn's own answer
        assert "Retry-After" in responses["429"]["headers"]


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/api/deliveries/{delivery_id}", "put", {"409", "422"}),
        ("/api/deliveries/{delivery_id}/confirmations", "post", {"409", "422"}),
        ("/api/deliveries/{delivery_id}/notifymerequests", "post", {"409"}),
        ("/api/dronedeliveries/{delivery_id}", "put", {"409", "410", "422"}),
        ("/api/dronedeliveries/{delivery_id}", "patch", {"409"}),
        ("/api/packages/summary/{owner_id}", "get", {"422"}),
    ],
)
def test_business_rule_problems_are_documented_where_they_happen(schema, path, method, statuses):
    responses = schema["paths"][path][method]["responses"]
    for status in statuses:
        assert responses[status]["content"] == {PROBLEM: {"schema": PROBLEM_REF}}


def test_a_cancellation_and_a_release_answer_200_with_a_body(schema):
    deliveries = schema["paths"]["/api/deliveries/{delivery_id}"]["delete"]["responses"]
    drones = schema["paths"]["/api/dronedeliveries/{delivery_id}"]["delete"]["responses"]
    assert "200" in deliveries
    assert "204" not in deliveries
    assert "200" in drones
    assert "204" not in drones


@pytest.mark.parametrize(
    ("component", "fields"),
    [
        ("Delivery", {"pickupTime", "deadline"}),
        ("PublicDelivery", {"pickupTime", "deadline"}),
        ("DeliveryStatus", {"pickupETA", "deliveryETA"}),
        ("Assignment", {"pickupETA", "deliveryETA"}),
        ("DroneDelivery", {"pickedUpAt", "completedAt", "releasedAt"}),
        ("Flight", {"departedAt", "landedAt"}),
    ],
)
def test_fields_that_can_be_null_are_declared_nullable(schema, component, fields):
    properties = schema["components"]["schemas"][component]["properties"]
    for name in fields:
        assert properties[name].get("nullable") is True, name


@pytest.mark.usefixtures("redis_store")
def test_a_delivery_without_times_answers_null_as_the_schema_says(api, schema):
    new_id = delivery_id()
    body = DeliveryBodyFactory(pickupTime=None, deadline="")
    assert api.put(f"/api/deliveries/{new_id}", body, format="json").status_code == 201

    delivery = api.get(f"/api/deliveries/{new_id}").json()
    status = api.get(f"/api/deliveries/{new_id}/status").json()

    nullable = schema["components"]["schemas"]
    assert delivery["pickupTime"] is None
    assert delivery["deadline"] is None
    assert nullable["Delivery"]["properties"]["deadline"]["nullable"]
    assert status["pickupETA"] is None
    assert nullable["DeliveryStatus"]["properties"]["pickupETA"]["nullable"]


def parameter(schema: dict, path: str, method: str, name: str) -> dict:
    (found,) = [p for p in schema["paths"][path][method]["parameters"] if p["name"] == name]
    return found["schema"]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/deliveries/{delivery_id}", "delivery_id"),
        ("/api/packages/{package_id}", "package_id"),
        ("/api/drones/{drone_id}", "drone_id"),
        ("/api/deliveryrequests/{deliveryId}", "deliveryId"),
    ],
)
def test_ids_in_paths_carry_the_pattern_the_router_enforces(schema, path, name):
    method = next(iter(schema["paths"][path]))
    pattern = re.compile(parameter(schema, path, method, name)["pattern"])
    assert pattern.match("Pkg-1.2_3")
    for refused in ("a b", "x" * 129, "semi;colon", ""):
        assert not pattern.match(refused), refused


def test_header_and_query_constraints_are_in_the_schema(schema):
    key = parameter(schema, "/api/deliveryrequests", "post", "Idempotency-Key")
    assert key["minLength"] == 1
    assert key["maxLength"] == 255
    resume = parameter(schema, "/api/deliveries/{delivery_id}/stream", "get", "Last-Event-ID")
    assert resume["type"] == "string"  # an offset >= 0, or empty for none (as an EventSource sends)
    assert re.match(resume["pattern"], "12")
    assert re.match(resume["pattern"], "")
    for refused in ("-1", "+5", "1.5"):
        assert not re.match(resume["pattern"], refused), refused
    summary = "/api/packages/summary/{owner_id}"
    year = parameter(schema, summary, "get", "year")
    assert (year["minimum"], year["maximum"]) == (1, 9998)
    assert parameter(schema, summary, "get", "month")["maximum"] == 12
    assert parameter(schema, summary, "get", "owner_id")["maxLength"] == 128
    deliveries = "/api/deliveries/summary"
    assert parameter(schema, deliveries, "get", "year")["minimum"] == 1970
    assert parameter(schema, deliveries, "get", "month")["minimum"] == 1


def test_a_location_is_an_object_or_a_lat_lon_string(schema):
    request = schema["components"]["schemas"]["DeliveryRequestRequest"]["properties"]
    location, lat_lon = request["pickupLocation"]["oneOf"]
    assert location == {"$ref": "#/components/schemas/LocationRequest"}
    assert lat_lon["type"] == "string"
    assert "lat,lon" in lat_lon["description"]
    assert request["deadline"]["anyOf"] == [{"format": "date-time"}, {"maxLength": 0}]
    assert request["deadline"]["nullable"] is True


def test_text_fields_say_they_refuse_nul_and_blank(schema):
    package = schema["components"]["schemas"]["PackageWriteRequest"]["properties"]
    assert "\\s" in package["ownerId"]["pattern"]  # not only whitespace
    assert "\\u0000" in package["tag"]["pattern"]
    notify = schema["components"]["schemas"]["NotifyMeRequest"]
    assert {"required": ["sms"], "properties": {"sms": {"minLength": 1}}} in notify["anyOf"]
