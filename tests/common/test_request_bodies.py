"""Hostile request bodies (issue 16): JSON nested ~1,000 deep, bodies over MAX_REQUEST_BYTES, and
chunked bodies behind a server that cannot de-chunk, on every endpoint that takes a body: each is
a problem+json 4xx, never a 500 or an HTML page. tests/common/test_request_bodies_gunicorn.py does
the same through gunicorn."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from wsgiref.util import setup_testing_defaults

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from fabrikam.wsgi import application
from tests.deliveries.factories import DeliveryBodyFactory
from tests.packages.stores import PACKAGES_DATABASES

pytestmark = [
    pytest.mark.django_db(databases=PACKAGES_DATABASES),
    pytest.mark.usefixtures("redis_store"),
]

DEEP = "[" * 1000 + "]" * 1000
SOME_ID = "d-0123456789abcdef"
BODY_METHODS = ("post", "put", "patch")


def _routes(patterns: list, prefix: str = "") -> Iterator[tuple[str, type]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "cls", None)
            yield prefix + str(pattern.pattern), view


def json_endpoints() -> list[tuple[str, str]]:
    """(method, path) of every API view method that reads a body, path parameters filled in."""
    found = []
    for route, view in _routes(get_resolver().url_patterns):
        if not route.startswith("api/") or view is None:
            continue
        path = "/" + re.sub(r"<[^>]+>", SOME_ID, route)
        found += [(method, path) for method in BODY_METHODS if hasattr(view, method)]
    return found


ENDPOINTS = json_endpoints()
INTERNAL_WRITES = [
    ("put", "/api/deliveries/d-1"),
    ("post", "/api/deliveries/d-1/confirmations"),
    ("post", "/api/deliveries/d-1/tracking"),
    ("put", "/api/packages/p-1"),
    ("put", "/api/dronedeliveries/d-1"),
]


def test_the_endpoints_are_found_from_the_url_configuration():
    assert ("post", "/api/deliveryrequests") in ENDPOINTS
    assert ("post", f"/api/deliveries/{SOME_ID}/tracking") in ENDPOINTS
    assert ("patch", f"/api/packages/{SOME_ID}") in ENDPOINTS


@pytest.fixture
def existing_delivery(api, redis_store) -> None:
    """Endpoints that look the delivery up before reading the body (notify-me) need one."""
    body = DeliveryBodyFactory()
    assert api.put(f"/api/deliveries/{SOME_ID}", body, format="json").status_code == 201


@pytest.mark.usefixtures("existing_delivery")
@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_json_nested_a_thousand_deep_is_a_400_problem(api, method, path):
    response = getattr(api, method)(path, DEEP, content_type="application/json")

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert "nested more than 32 levels" in response.json()["detail"]


def test_json_nested_just_within_the_limit_is_read(api):
    body = {"size": "Small", "weight": 1.0, "ownerId": "acme", "tag": "t"}
    nested: object = "deep"
    for _ in range(30):
        nested = [nested]
    response = api.put("/api/packages/p-1", {**body, "tag": nested}, format="json")

    assert response.status_code == 400
    assert "tag" in response.json()["errors"]  # validated as a field, not refused as a body


@pytest.mark.parametrize(("method", "path"), INTERNAL_WRITES)
def test_a_body_over_the_limit_is_a_413_problem_even_with_debug(api, settings, method, path):
    settings.DEBUG = True  # `make run`: Django would render its HTML traceback page
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = json.dumps({"tag": "t" * 500})

    response = getattr(api, method)(path, body, content_type="application/json")

    assert response.status_code == 413, response.content[:200]
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "The request body exceeds 100 bytes."


def call_wsgi(environ: dict) -> tuple[str, dict[str, str], bytes]:
    answer: dict = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"], answer["headers"] = status, dict(headers)

    body = b"".join(application(environ, start_response))
    return answer["status"], answer["headers"], body


def chunked_environ(body: bytes, server_dechunks: bool) -> dict:
    environ = {
        "REQUEST_METHOD": "PUT",
        "PATH_INFO": "/api/packages/p-1",
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(body),
    }
    if server_dechunks:
        environ["wsgi.input_terminated"] = True
    setup_testing_defaults(environ)
    return environ


def test_a_chunked_body_behind_a_server_that_cannot_dechunk_is_a_411_problem():
    status, headers, body = call_wsgi(chunked_environ(b'{"size": "Small"}', server_dechunks=False))

    assert status.startswith("411")
    assert headers["Content-Type"] == "application/problem+json"
    assert "Content-Length" in json.loads(body)["detail"]


def test_a_dechunked_body_over_the_limit_is_a_413_problem(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    status, headers, body = call_wsgi(chunked_environ(b"x" * 101, server_dechunks=True))

    assert status.startswith("413")
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["status"] == 413


def test_brackets_inside_strings_are_not_nesting(api):
    body = {"size": "Small", "weight": 1.0, "ownerId": "acme", "tag": "[{" * 40}

    response = api.put("/api/packages/p-brackets", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["tag"] == "[{" * 40
