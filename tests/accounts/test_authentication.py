"""Who is calling: no token, a bad token, an unregistered client."""

from __future__ import annotations

import base64
import json
import time

import pytest
from rest_framework.test import APIClient

from tests.accounts import forge
from tests.accounts.factories import ApiClientFactory
from tests.support import auth
from tests.support.auth import client_with

PROTECTED = [
    ("get", "/api/deliveries/d-1"),
    ("get", "/api/deliveries/summary?ownerId=acme&year=2026&month=12"),
    ("post", "/api/deliveryrequests"),
    ("delete", "/api/deliveryrequests/d-1"),
    ("get", "/api/packages/p-1"),
    ("put", "/api/packages/p-1"),
    ("get", "/api/dronedeliveries/d-1"),
    ("put", "/api/dronedeliveries/d-1"),
    ("get", "/api/drones"),
    ("post", "/api/deliveries/d-1/tracking"),
]


def call(client: APIClient, method: str, path: str):
    return getattr(client, method)(path, {}, format="json") if method != "get" else client.get(path)


def assert_unauthorized(response, says: str) -> None:
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == 'Bearer realm="fabrikam"'
    assert says in response.json()["detail"], response.json()


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_without_a_token_every_api_endpoint_answers_401(anonymous_api, method, path):
    assert_unauthorized(call(anonymous_api, method, path), "credentials were not provided")


@pytest.mark.parametrize(
    ("token", "says"),
    [
        (lambda: forge.token(aud="api://someone-else"), "another audience"),
        (lambda: forge.token(iss="https://login.example/evil"), "another issuer"),
        (lambda: forge.token(exp=int(time.time()) - 3600), "expired"),
        (lambda: forge.token(key=forge.another_key()), "signature does not match"),
        (lambda: forge.token(kid="not-our-key"), "a key the issuer does not publish"),
        (lambda: forge.token(exp=None), 'missing the "exp" claim'),
        (lambda: forge.token(aud=None), 'missing the "aud" claim'),
        (lambda: "not-a-jwt", "not a JWT"),
    ],
    ids=[
        "wrong-audience",
        "wrong-issuer",
        "expired",
        "bad-signature",
        "unknown-key",
        "no-expiry",
        "no-audience",
        "garbage",
    ],
)
def test_a_token_we_did_not_issue_for_this_api_is_401_saying_why(db, token, says):
    response = client_with(token()).get("/api/deliveries/d-1")
    assert_unauthorized(response, says)


def _unsigned(alg: str) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': alg, 'kid': 'x'})}.{part(forge.claims())}."


def test_a_token_that_picks_its_own_algorithm_is_refused(db):
    """`alg: none` and HS256 (an HMAC keyed with our public key) are classic forgeries."""
    for token in (_unsigned("none"), _unsigned("HS256")):
        assert_unauthorized(
            client_with(token).get("/api/deliveries/d-1"), "must be signed with RS256"
        )


def test_another_scheme_than_bearer_is_401(anonymous_api):
    anonymous_api.credentials(HTTP_AUTHORIZATION="Basic YWRtaW46YWRtaW4=")
    assert_unauthorized(anonymous_api.get("/api/deliveries/d-1"), "Authorization: Bearer")


def test_the_error_never_repeats_the_token(db):
    token = forge.token(aud="api://someone-else")
    response = client_with(token).get("/api/deliveries/d-1")
    assert response.status_code == 401
    assert token not in response.content.decode()
    assert token.split(".")[2] not in response.content.decode()


def test_a_valid_token_of_an_unregistered_client_is_403(db, redis_store):
    response = auth.api_client("deliveries.read", client_id="nobody").get(
        "/api/deliveries/summary?ownerId=acme&year=2026&month=12"
    )
    assert response.status_code == 403
    assert "not registered to an active business" in response.json()["detail"]


@pytest.mark.parametrize("switched_off", ["client", "business"])
def test_switching_a_client_or_its_business_off_refuses_its_tokens(db, redis_store, switched_off):
    client = ApiClientFactory(business__owner_id="acme")
    api = auth.api_client("deliveries.read", client_id=client.client_id)
    summary = "/api/deliveries/summary?ownerId=acme&year=2026&month=12"
    assert api.get(summary).status_code == 200

    target = client if switched_off == "client" else client.business
    target.is_active = False
    target.save()

    response = api.get(summary)
    assert response.status_code == 403, response.content


def test_public_endpoints_need_no_token(anonymous_api, redis_store):
    assert anonymous_api.get("/api/deliveries/public/unknown-id").status_code == 404
    assert anonymous_api.get("/api/schema/").status_code == 200
    assert anonymous_api.get("/healthz/live").status_code == 200
