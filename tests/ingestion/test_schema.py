"""The OpenAPI document describes the ingestion's bodies and every problem it answers."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"
AUTH = {"401", "403", "429"}  # every operation: authentication and throttling
BODY = {"400", "413", "415"}  # every operation with a body


@pytest.fixture
def schema(api) -> dict:
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def ref_name(content: dict) -> str:
    return content["schema"]["$ref"].rsplit("/", 1)[-1]


@pytest.mark.parametrize(
    ("path", "method", "problems"),
    [
        ("/api/deliveryrequests", "post", {*AUTH, "400", "409", "413", "415", "422", "503"}),
        ("/api/deliveryrequests/{deliveryId}", "patch", {*AUTH, *BODY, "404", "409", "422", "503"}),
        ("/api/deliveryrequests/{deliveryId}", "delete", {*AUTH, "400", "404", "503"}),
    ],
)
def test_each_operation_documents_its_202_and_its_problems(schema, path, method, problems):
    operation = schema["paths"][path][method]
    responses = operation["responses"]

    assert set(responses) == {"202", "414", *problems}  # 414: gunicorn's own, as HTML
    assert responses["202"]["headers"]["Location"]["schema"]["type"] == "string"
    for status in problems:
        assert set(responses[status]["content"]) == {PROBLEM}, status
        assert ref_name(responses[status]["content"][PROBLEM]) == "Problem"
        assert responses[status]["description"]
    assert "Retry-After" in responses["503"]["headers"]


def test_the_request_body_schema_names_the_contract_fields(schema):
    post = schema["paths"]["/api/deliveryrequests"]["post"]
    request = schema["components"]["schemas"][
        ref_name(post["requestBody"]["content"]["application/json"])
    ]
    assert set(request["required"]) == {
        "ownerId",
        "pickupLocation",
        "dropOffLocation",
        "pickupTime",
        "packageInfo",
    }
    confirmation = request["properties"]["confirmationRequired"]
    assert confirmation["default"] == "None"
    enum = confirmation["allOf"][0]["$ref"].rsplit("/", 1)[-1]
    assert schema["components"]["schemas"][enum]["enum"] == [
        "FingerPrint",
        "Picture",
        "Voice",
        "None",
    ]
    pickup_time = request["properties"]["pickupTime"]["oneOf"]
    assert pickup_time[0] == {"type": "string", "format": "date-time"}
    assert pickup_time[1]["type"] == "integer"  # epoch milliseconds
    assert "milliseconds" in pickup_time[1]["description"]
    assert {p["name"] for p in post["parameters"]} >= {"Idempotency-Key", "traceparent"}
    accepted = post["responses"]["202"]["content"]["application/json"]
    assert "deliveryId" in schema["components"]["schemas"][ref_name(accepted)]["properties"]


def test_reschedule_and_cancel_say_ingestion_cannot_know_if_the_delivery_exists(schema):
    item = schema["paths"]["/api/deliveryrequests/{deliveryId}"]
    for method in ("patch", "delete"):
        assert "cannot know whether this one exists" in item[method]["description"]


def test_the_problem_schema_has_the_rfc_9457_members(schema):
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["properties"]) == {"type", "title", "status", "detail", "errors"}
    assert set(problem["required"]) == {"type", "title", "status"}
