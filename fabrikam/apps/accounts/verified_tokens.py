"""Bearer tokens already verified by this process, so a client sending the same token again is
not checked against its RS256 signature again (most of what authenticating a request costs).

Keyed by the token string, a token is trusted until its `exp`, for at most
AUTH_CLIENT_CACHE_SECONDS (the same window as the client/business switch; 0 turns the cache off),
and while the issuer still publishes the key that signed it (a retired key's tokens are refused at
once, as without the cache). Only accepted
tokens are kept, at most MAX_TOKENS. Whom the token acts for is still looked up on every request
(`principal_for`), so a client or business switched off is refused as before.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import jwt
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from jwt import PyJWK

from fabrikam.apps.accounts import tokens
from fabrikam.apps.accounts.jwks import KeysUnavailable, UnknownKey
from fabrikam.apps.accounts.tokens import Claims

MAX_TOKENS = 1024

_cache: dict[str, tuple[float, PyJWK, Claims]] = {}  # token → (trusted until, its key, claims)
_lock = threading.Lock()


def validate(token: str) -> Claims:
    """`tokens.validate(token)`, from the cache while the token is trusted."""
    now = time.time()
    cached = _cache.get(token)
    if cached is not None and cached[0] > now and _still_published(cached[1]):
        return cached[2]
    claims = tokens.validate(token)  # raises for a token we do not accept
    window = settings.AUTH_CLIENT_CACHE_SECONDS
    if window > 0:
        expires = float(jwt.decode(token, options={"verify_signature": False})["exp"])
        key = tokens.published_key(jwt.get_unverified_header(token)["kid"])
        _remember(token, (min(expires, now + window), key, claims), now)
    return claims


def trusted(token: str) -> Claims | None:
    """`validate(token)` when the cache answers it without a signature check, a key fetch or a
    wait (the server's event loop asks this); None when only `validate` can tell."""
    cached = _cache.get(token)
    if cached is None or cached[0] <= time.time():
        return None
    return cached[2] if tokens.held_key(str(cached[1].key_id)) is cached[1] else None


def _still_published(key: PyJWK) -> bool:
    try:
        return tokens.published_key(str(key.key_id)) is key
    except (UnknownKey, KeysUnavailable):
        return False


def _remember(token: str, entry: tuple[float, PyJWK, Claims], now: float) -> None:
    with _lock:
        if token not in _cache and len(_cache) >= MAX_TOKENS:
            for stale in [t for t, (ends, *_) in _cache.items() if ends <= now]:
                del _cache[stale]
            while len(_cache) >= MAX_TOKENS:  # the oldest first
                del _cache[next(iter(_cache))]
        _cache[token] = entry


def forget() -> None:
    with _lock:
        _cache.clear()


@receiver(setting_changed)
def _on_setting_changed(setting: str, **kwargs: Any) -> None:
    """Tokens verified under other settings (audience, issuer, keys) are checked again."""
    if setting.startswith("AUTH_"):
        forget()
