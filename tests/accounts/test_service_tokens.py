"""The token the workflow and scheduler send on their calls to the other services."""

from __future__ import annotations

import time
from typing import Any

import pytest
from azure.core.credentials import AccessToken

from fabrikam.apps.accounts import service_tokens, tokens


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.setattr(service_tokens, "_current", {})


def bearer(header: str) -> str:
    kind, _, token = header.partition(" ")
    assert kind == "Bearer"
    return token


def test_locally_each_service_signs_an_internal_token_and_reuses_it():
    first = service_tokens.authorization("workflow")
    claims = tokens.validate(bearer(first))
    assert claims.scopes == frozenset({"internal"})
    assert claims.client_id == "fabrikam-workflow"
    assert service_tokens.authorization("workflow") == first


def test_a_token_about_to_expire_is_replaced(monkeypatch):
    first = service_tokens.authorization("scheduler")
    later = time.time() + service_tokens.LOCAL_LIFETIME_SECONDS - 30  # inside the margin
    monkeypatch.setattr(service_tokens.time, "time", lambda: later)
    assert service_tokens.authorization("scheduler") != first


class Credential:
    """Stands in for DefaultAzureCredential (Entra ID cannot be reached from here)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.asked.extend(scopes)
        return AccessToken(f"entra-token-{len(self.asked)}", int(time.time()) + 3600)


def test_with_entra_the_workload_identity_is_asked_once_for_the_configured_scope(
    settings, monkeypatch
):
    settings.AUTH_SERVICE_TOKEN_SCOPE = "api://fabrikam/.default"
    credential = Credential()
    monkeypatch.setattr(service_tokens, "_credential", credential)
    assert service_tokens.authorization("workflow") == "Bearer entra-token-1"
    assert service_tokens.authorization("workflow") == "Bearer entra-token-1"
    assert credential.asked == ["api://fabrikam/.default"]
