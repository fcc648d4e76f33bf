"""The OpenAPI document, made to say what the server does (checked by tests/contract's fuzzing).

drf-spectacular describes serializers; what it cannot see is said here, once for every view:
- `ContractAutoSchema`: the rules DRF enforces on request fields that spectacular leaves out (a
  CharField refuses NUL and, unless blank is allowed, text that is only whitespace; `many=True`
  without `allow_empty` needs an item; "null means absent" serializers take null for optional
  fields).
- `document_problems`: every operation's problem+json answers — 401/403/429/503 from
  authentication and throttling, 404 for a path id, 400/413/415 for a body, 400 for parameters —
  next to the ones its view declares with `problems(...)` (409, 410, 422, a specific 503).
"""

from __future__ import annotations

import copy
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from fabrikam.apps.common.serializers import LAT_LON_PATTERN, LocationSerializer, NullMeansAbsent
from fabrikam.web.problems import CONTENT_TYPE as PROBLEM

# DRF's CharField refuses NUL (ProhibitNullCharactersValidator) and, with trim_whitespace and no
# allow_blank, text that is only whitespace.
ANY_TEXT = r"^[^\u0000]*$"
SOME_TEXT = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"

GENERIC_PROBLEMS = {
    400: "Invalid input: the fields or parameters at fault are named (`errors`); malformed JSON.",
    401: "No valid bearer token (a public endpoint answers this too when a token is sent and is "
    "not valid).",
    403: "The token's scopes do not allow this, its client is not registered to an active "
    "business, or it names another business.",
    404: "Nothing with this id (or it belongs to another business).",
    409: "The resource's state does not allow this now.",
    410: "Gone.",
    413: "The body is larger than MAX_REQUEST_BYTES.",
    414: "The request line is longer than the HTTP server takes (gunicorn answers, as HTML).",
    415: "The body is not application/json.",
    422: "The request is well-formed but breaks a business rule.",
    429: "Too many requests from this client or address; retry after Retry-After seconds.",
    503: "A dependency is unavailable (e.g. the token issuer's keys); retry after Retry-After.",
}
RETRY_AFTER_HEADER = {
    "schema": {"type": "integer"},
    "description": "Seconds to wait before retrying.",
}


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA = {
    "type": "object",
    "description": (
        "application/problem+json (RFC 9457), as fabrikam.web.problems renders every error."
    ),
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": 'Field → messages, nested fields dotted ("packageInfo.size"); '
            "validation only.",
        },
    },
    "required": ["type", "title", "status"],
}


def problems(*statuses: int, **descriptions: str) -> dict[tuple[int, str], OpenApiResponse]:
    """Problem responses for `@extend_schema(responses=...)`; `descriptions` by "s409"=... ."""
    return {
        (code, PROBLEM): OpenApiResponse(
            PROBLEM_REF, description=descriptions.get(f"s{code}", GENERIC_PROBLEMS[code])
        )
        for code in statuses
    }


class ContractAutoSchema(AutoSchema):
    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        schema = super()._map_basic_serializer(serializer, direction)
        if direction != "request":
            return schema
        for name, field in serializer.fields.items():
            if name in schema["properties"]:
                _as_enforced(schema["properties"][name], field, serializer)
        names = getattr(serializer, "required_any", ())
        if names:  # one of these fields must be given (and, with `blank_is_absent`, not blank)
            blank_is_absent = getattr(serializer, "blank_is_absent", False)
            schema["anyOf"] = [_given(name, blank_is_absent) for name in names]
        return schema


def _as_enforced(schema: dict[str, Any], field: Any, serializer: Any) -> None:
    """What DRF enforces on a request field beyond what spectacular wrote."""
    if "$ref" in schema:
        return
    if (
        isinstance(field, serializers.CharField)
        and schema.get("type") == "string"
        and not {"pattern", "format", "enum"} & set(schema)
    ):
        blank_ok = field.allow_blank or not field.trim_whitespace
        schema["pattern"] = ANY_TEXT if blank_ok else SOME_TEXT
    many = isinstance(field, serializers.ListSerializer | serializers.ListField)
    if many and not field.allow_empty and schema.get("type") == "array":
        schema.setdefault("minItems", 1)
    if isinstance(serializer, NullMeansAbsent) and not field.required:
        schema["nullable"] = True


def _given(name: str, blank_is_absent: bool) -> dict[str, Any]:
    if blank_is_absent:
        return {"required": [name], "properties": {name: {"minLength": 1}}}
    return {"required": [name]}


class LocationFieldSchema(OpenApiSerializerFieldExtension):
    """A Location is taken as an object or a "lat,lon" string, and always given as an object."""

    target_class = "fabrikam.apps.common.serializers.LocationField"

    def map_serializer_field(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        location = auto_schema.resolve_serializer(LocationSerializer, direction).ref
        if direction != "request":
            return location
        lat_lon = {
            "type": "string",
            "pattern": LAT_LON_PATTERN,
            "description": '"lat,lon" in decimal degrees, e.g. "47.6097,-122.3331"',
        }
        return {"oneOf": [location, lat_lon]}


def document_problems(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """spectacular postprocessing hook: add the problems every operation of its shape can answer."""
    result.setdefault("components", {}).setdefault("schemas", {}).setdefault(
        "Problem", copy.deepcopy(PROBLEM_SCHEMA)
    )
    for item in result.get("paths", {}).values():
        for operation in item.values():
            _document(operation)
    return result


def _document(operation: dict[str, Any]) -> None:
    parameters = operation.get("parameters", [])
    statuses = {401, 403, 429, 503}
    if any(p["in"] == "path" for p in parameters):
        statuses.add(404)
    if any(p["in"] in ("query", "header") for p in parameters):
        statuses.add(400)
    if "requestBody" in operation:
        statuses |= {400, 413, 415}
    if "requestBody" in operation:
        operation["requestBody"]["required"] = True
    responses = operation.setdefault("responses", {})
    responses.setdefault(
        "414", {"content": {"text/html": {}}, "description": GENERIC_PROBLEMS[414]}
    )
    for code in sorted(statuses):
        responses.setdefault(
            str(code),
            {
                "content": {PROBLEM: {"schema": PROBLEM_REF}},
                "description": GENERIC_PROBLEMS[code],
            },
        )
    for code in ("429", "503"):
        responses[code].setdefault("headers", {}).setdefault("Retry-After", RETRY_AFTER_HEADER)
