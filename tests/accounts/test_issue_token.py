"""`manage.py issue_token`: local tokens that the API accepts like any other."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from fabrikam.apps.accounts import tokens
from fabrikam.apps.accounts.models import ApiClient
from tests.accounts.factories import ApiClientFactory
from tests.support.auth import client_with

pytestmark = pytest.mark.django_db


def issue(*args: str) -> str:
    out = StringIO()
    call_command("issue_token", *args, stdout=out)
    return out.getvalue().strip()


def test_a_token_for_a_new_business_registers_it_and_works(redis_store):
    token = issue("--owner", "acme")
    client = ApiClient.objects.get(client_id="acme-local")
    assert client.business.owner_id == "acme"
    claims = tokens.validate(token)
    assert claims.scopes == frozenset({"deliveries.read", "deliveries.write"})
    api = client_with(token)
    assert api.get("/api/deliveries/summary?ownerId=acme&year=2026&month=12").status_code == 200
    assert api.get("/api/deliveries/summary?ownerId=globex&year=2026&month=12").status_code == 403


def test_scopes_and_lifetime_are_chosen(redis_store):
    claims = tokens.validate(
        issue("--owner", "acme", "--scope", "deliveries.read", "--lifetime", "60")
    )
    assert claims.scopes == frozenset({"deliveries.read"})


def test_an_admin_token_needs_no_business():
    assert tokens.validate(issue("--scope", "admin")).scopes == frozenset({"admin"})


def test_a_business_token_needs_its_owner():
    with pytest.raises(CommandError, match="--owner is required"):
        issue("--scope", "deliveries.read")


def test_a_client_of_another_business_is_not_moved():
    ApiClientFactory(client_id="shared-app", business__owner_id="globex")
    with pytest.raises(CommandError, match="belongs to business globex"):
        issue("--owner", "acme", "--client", "shared-app")


def test_with_entra_configured_it_refuses_to_sign():
    with (
        override_settings(AUTH_JWKS_URL="https://login.example/keys"),
        pytest.raises(CommandError, match="Entra ID"),
    ):
        issue("--owner", "acme")


def test_an_owner_id_the_api_would_not_accept_is_refused():
    with pytest.raises(CommandError, match="letters, digits"):
        issue("--owner", "not an id")
