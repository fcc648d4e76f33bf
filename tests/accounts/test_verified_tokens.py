"""A token verified once is trusted by the process until its expiry, for at most
AUTH_CLIENT_CACHE_SECONDS; refused tokens are never remembered; the cache is bounded."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from fabrikam.apps.accounts import tokens, verified_tokens
from tests.accounts import forge
from tests.accounts.factories import ApiClientFactory
from tests.support import auth


@pytest.fixture
def checks(monkeypatch) -> list[str]:
    """The tokens whose signature was checked, in order (the real check runs)."""
    checked: list[str] = []
    real = tokens.validate

    def counting(token: str) -> tokens.Claims:
        checked.append(token)
        return real(token)

    monkeypatch.setattr(tokens, "validate", counting)
    verified_tokens.forget()
    yield checked
    verified_tokens.forget()


@pytest.fixture
def clock(monkeypatch) -> Callable[[float], None]:
    """clock(seconds): the cache's clock moves that far from now."""
    offset = [0.0]
    fake = SimpleNamespace(time=lambda: time.time() + offset[0])
    monkeypatch.setattr(verified_tokens, "time", fake)

    def advance(seconds: float) -> None:
        offset[0] = seconds

    return advance


def test_a_token_is_checked_once_while_trusted(checks):
    token = auth.token("deliveries.read")
    first, again = verified_tokens.validate(token), verified_tokens.validate(token)
    assert first == again
    assert checks == [token]


def test_a_token_is_checked_again_once_it_expires(checks, clock, settings):
    settings.AUTH_CLIENT_CACHE_SECONDS = 3600
    token = forge.token(exp=int(time.time()) + 60)
    verified_tokens.validate(token)
    clock(59)
    verified_tokens.validate(token)
    assert len(checks) == 1
    clock(61)  # the cache's clock only: the token itself is still valid, so checked and accepted
    verified_tokens.validate(token)
    assert len(checks) == 2


def test_a_token_is_checked_again_after_the_client_cache_window(checks, clock, settings):
    settings.AUTH_CLIENT_CACHE_SECONDS = 5
    token = auth.token("deliveries.read")
    verified_tokens.validate(token)
    clock(4)
    verified_tokens.validate(token)
    clock(6)
    verified_tokens.validate(token)
    assert len(checks) == 2


def test_no_window_no_cache(checks, settings):
    settings.AUTH_CLIENT_CACHE_SECONDS = 0
    token = auth.token("deliveries.read")
    verified_tokens.validate(token)
    verified_tokens.validate(token)
    assert checks == [token, token]


def test_a_refused_token_is_not_remembered(checks):
    forged = forge.token(key=forge.another_key())
    for _ in range(2):
        with pytest.raises(tokens.InvalidToken, match="signature"):
            verified_tokens.validate(forged)
    assert checks == [forged, forged]


def test_the_cache_keeps_the_most_recent_tokens_only(checks, monkeypatch):
    monkeypatch.setattr(verified_tokens, "MAX_TOKENS", 3)
    issued = [auth.token("deliveries.read", client_id=f"c{n}") for n in range(5)]
    for token in issued:
        verified_tokens.validate(token)
    for token in issued[-3:]:
        verified_tokens.validate(token)
    assert len(checks) == 5  # the last three were still trusted
    verified_tokens.validate(issued[0])
    assert len(checks) == 6  # the first was dropped


def test_a_cached_token_of_a_client_switched_off_is_refused(db, redis_store, checks):
    client = ApiClientFactory(business__owner_id="acme")
    api = auth.api_client("deliveries.read", client_id=client.client_id)
    summary = "/api/deliveries/summary?ownerId=acme&year=2026&month=12"
    assert api.get(summary).status_code == 200
    assert api.get(summary).status_code == 200
    assert len(checks) == 1  # the second request trusted the cache

    client.is_active = False
    client.save()

    response: Any = api.get(summary)
    assert response.status_code == 403, response.content


def test_a_cached_token_of_a_retired_key_is_refused(checks, monkeypatch):
    token = auth.token("deliveries.read")
    verified_tokens.validate(token)

    def retired(kid: str) -> Any:
        raise tokens.UnknownKey(kid)

    monkeypatch.setattr(tokens, "_key", retired)
    with pytest.raises(tokens.InvalidToken, match="does not publish"):
        verified_tokens.validate(token)
