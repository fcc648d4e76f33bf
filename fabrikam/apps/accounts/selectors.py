"""Reads of the business registry, for authentication on every request.

Lookups are cached per process for AUTH_CLIENT_CACHE_SECONDS: a client or business switched off in
the admin is refused by every process within that time (at once by the process that saved it).
"""

from __future__ import annotations

import threading
import time

from django.conf import settings

from fabrikam.apps.accounts.models import ApiClient

_cache: dict[str, tuple[str | None, float]] = {}
_lock = threading.Lock()


def client_owner(client_id: str) -> str | None:
    """The owner id of the business an active API client acts for; None when the client is
    unknown or it or its business is switched off."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get(client_id)
    if cached is not None and cached[1] > now:
        return cached[0]
    owner_id = (
        ApiClient.objects.filter(client_id=client_id, is_active=True, business__is_active=True)
        .values_list("business_id", flat=True)
        .first()
    )
    with _lock:
        _cache[client_id] = (owner_id, now + settings.AUTH_CLIENT_CACHE_SECONDS)
    return owner_id


def known_client_owner(client_id: str) -> tuple[bool, str | None]:
    """(True, `client_owner(client_id)`) when the cache answers it without the database (the
    server's event loop asks this); (False, None) when only `client_owner` can tell."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get(client_id)
    if cached is not None and cached[1] > now:
        return True, cached[0]
    return False, None


def forget_clients() -> None:
    with _lock:
        _cache.clear()
