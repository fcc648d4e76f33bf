"""The token a service sends on its calls to the others (workflow → packages, drone scheduler,
deliveries; scheduler → deliveries), with the `internal` scope.

With AUTH_SERVICE_TOKEN_SCOPE (Azure), the pod's workload identity asks Entra ID for it
(DefaultAzureCredential); the API's app registration grants that identity the `internal` app role.
Without it, the process signs one with the local key. Either way it is reused until a minute
before it expires.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings

from fabrikam.apps.accounts import scopes as scope
from fabrikam.apps.accounts import tokens

REFRESH_MARGIN_SECONDS = 60
LOCAL_LIFETIME_SECONDS = 900

_lock = threading.Lock()
# (service, configuration) → (token, expires at in epoch seconds)
_current: dict[tuple[str, ...], tuple[str, float]] = {}
_credential = None


def _entra_token(token_scope: str) -> tuple[str, float]:
    global _credential
    if _credential is None:
        from azure.identity import DefaultAzureCredential

        _credential = DefaultAzureCredential()
    token = _credential.get_token(token_scope)
    return token.token, float(token.expires_on)


def _local_token(service: str) -> tuple[str, float]:
    token = tokens.issue(f"fabrikam-{service}", [scope.INTERNAL], lifetime=LOCAL_LIFETIME_SECONDS)
    return token, time.time() + LOCAL_LIFETIME_SECONDS


def authorization(service: str = "") -> str:
    """The `Authorization` header value for a call from this process's role."""
    service = service or settings.FABRIKAM_ROLE
    token_scope = settings.AUTH_SERVICE_TOKEN_SCOPE
    key = (service, token_scope, settings.AUTH_SIGNING_KEY, *settings.AUTH_AUDIENCE)
    with _lock:
        cached = _current.get(key)
        if cached is None or cached[1] - REFRESH_MARGIN_SECONDS <= time.time():
            cached = _entra_token(token_scope) if token_scope else _local_token(service)
            _current[key] = cached
    return f"Bearer {cached[0]}"
