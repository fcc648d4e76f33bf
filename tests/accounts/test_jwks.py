"""Entra ID's shape: keys from the tenant's JWKS over HTTP, cached, rotation picked up live.

The JWKS is served by a real HTTP server standing in for login.microsoftonline.com (the one
part of the flow this machine cannot reach); everything from the fetch on is the real code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from fabrikam.apps.accounts import signing_key, tokens
from fabrikam.apps.accounts.jwks import JwksCache, UnknownKey
from tests.accounts import forge
from tests.support.auth import client_with
from tests.support.clock import FakeClock
from tests.support.http_server import QuietHandler, serving

ISSUER = "https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000aa/v2.0"
AUDIENCE = "api://fabrikam-tests"


class Tenant:
    """The tenant's published signing keys; `fetches` counts how often they were downloaded."""

    def __init__(self) -> None:
        self.keys = [forge.another_key()]
        self.fetches = 0
        self.up = True

    def jwks(self) -> dict[str, Any]:
        return {"keys": [signing_key.public_jwk(key) for key in self.keys]}

    def rotate(self) -> None:
        self.keys = [forge.another_key()]

    def token(self, key=None, **claims: Any) -> str:
        key = key or self.keys[0]
        entra = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "scp": None,
            "roles": ["internal"],  # an app role, as Entra grants to a workload identity
            "azp": None,
            "appid": "workflow-identity",  # the v1-style client id claim
        }
        return forge.token(key=key, kid=signing_key.public_jwk(key)["kid"], **{**entra, **claims})


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    tenant = Tenant()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            tenant.fetches += 1
            if tenant.up:
                self.send_json(200, tenant.jwks())
            else:
                self.send_empty(503)

    with (
        serving(Handler) as base,
        override_settings(
            AUTH_JWKS_URL=f"{base}/discovery/v2.0/keys",
            AUTH_ISSUER=[ISSUER],
            AUTH_AUDIENCE=[AUDIENCE],
            AUTH_JWKS_MIN_REFRESH_SECONDS=0,
        ),
    ):
        tokens._caches.clear()
        yield tenant
        tokens._caches.clear()


def status(token: str) -> int:
    return client_with(token).get("/api/deliveries/public/nope").status_code


def test_entra_tokens_are_checked_against_the_tenants_keys(tenant, redis_store):
    assert status(tenant.token()) == 404  # accepted: the public 404 of an unknown delivery
    assert status(tenant.token(aud="api://other")) == 401
    # A token signed with our local key is not one of the tenant's.
    assert status(forge.token(iss=ISSUER, aud=AUDIENCE)) == 401


def test_a_key_rotation_is_picked_up_without_a_restart(tenant, redis_store):
    before = tenant.token()
    assert status(before) == 404
    tenant.rotate()
    after = tenant.token()
    assert status(after) == 404  # unknown key id → the JWKS is fetched again
    assert tenant.fetches == 2
    assert status(before) == 401  # the retired key is gone from the tenant's JWKS


def test_the_role_claim_of_an_app_token_is_its_scope(tenant, redis_store):
    claims = tokens.validate(tenant.token())
    assert claims.scopes == frozenset({"internal"})
    assert claims.client_id == "workflow-identity"


def test_keys_fetched_once_serve_while_the_issuer_is_down(tenant, redis_store):
    assert status(tenant.token()) == 404
    tenant.up = False
    assert status(tenant.token()) == 404


def test_with_no_keys_at_all_the_answer_is_503_not_401(tenant, redis_store):
    tenant.up = False
    response = client_with(tenant.token()).get("/api/deliveries/public/nope")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"


def test_made_up_key_ids_do_not_make_us_hammer_the_issuer():
    tenant, clock, fetched = Tenant(), FakeClock(), []

    def fetch(url: str, timeout: float) -> dict[str, Any]:
        fetched.append(clock.now)
        return tenant.jwks()

    cache = JwksCache("https://issuer/keys", 3600, 30, 3, clock=clock, fetch=fetch)
    kid = signing_key.public_jwk(tenant.keys[0])["kid"]
    cache.key(kid)
    clock.now += 30
    for made_up in ("a", "b", "c"):
        with pytest.raises(UnknownKey, match=made_up):
            cache.key(made_up)
    assert fetched == [1000.0, 1030.0]  # the first unknown id refetched; the others waited

    clock.now += 30
    with pytest.raises(UnknownKey, match="d"):
        cache.key("d")
    clock.now += 3600
    cache.key(kid)  # the cache's age alone refreshes it
    assert len(fetched) == 4
