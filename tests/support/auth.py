"""Bearer tokens for tests, signed with the session's local key (AUTH_SIGNING_KEY, which
tests.support.environment sets for this process and every process a test starts)."""

from __future__ import annotations

from rest_framework.test import APIClient

from fabrikam.apps.accounts import scopes, tokens

# The services' own scope plus the back office's: what the workflow and an operator may do.
TRUSTED = (scopes.INTERNAL, scopes.ADMIN, scopes.READ, scopes.WRITE)


def token(*granted: str, client_id: str = "tests", lifetime: int | None = None) -> str:
    return tokens.issue(client_id, granted or TRUSTED, lifetime=lifetime)


def headers(*granted: str, client_id: str = "tests") -> dict[str, str]:
    """`Authorization` for requests to a live system; all scopes unless `granted`."""
    return {"Authorization": f"Bearer {token(*granted, client_id=client_id)}"}


def client_with(bearer: str, **defaults: str) -> APIClient:
    """A DRF test client sending `bearer` as its token; `defaults` as for APIClient (HTTP_HOST)."""
    client = APIClient(**defaults)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer}")
    return client


def api_client(*granted: str, client_id: str = "tests", **defaults: str) -> APIClient:
    """A DRF test client holding a token of ours (all scopes unless `granted`)."""
    return client_with(token(*granted, client_id=client_id), **defaults)
