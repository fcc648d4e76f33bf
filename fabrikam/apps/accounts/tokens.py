"""Bearer tokens: validating them (issuer, audience, expiry, signature) and issuing local ones.

One validation path for both issuers. With AUTH_JWKS_URL (Entra ID) the keys come from the
tenant's JWKS; without it, from the local signing key's own JWKS. Tokens are RS256 only: a token
that asks for another algorithm (`none`, or HS256 keyed with the public key) is refused outright.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from django.conf import settings
from jwt import PyJWK, PyJWKSet

from fabrikam.apps.accounts import scopes as scope
from fabrikam.apps.accounts import signing_key
from fabrikam.apps.accounts.jwks import JwksCache, KeysUnavailable, UnknownKey

ALGORITHM = "RS256"

__all__ = ["Claims", "InvalidToken", "KeysUnavailable", "issue", "validate"]


class InvalidToken(Exception):
    """The token is not one we accept; the message says why (it never repeats the token)."""


@dataclass(frozen=True)
class Claims:
    subject: str
    client_id: str
    scopes: frozenset[str]


_caches: dict[tuple[str, float, float, float], JwksCache] = {}


def _jwks_cache() -> JwksCache:
    config = (
        settings.AUTH_JWKS_URL,
        settings.AUTH_JWKS_CACHE_SECONDS,
        settings.AUTH_JWKS_MIN_REFRESH_SECONDS,
        settings.AUTH_JWKS_TIMEOUT,
    )
    if config not in _caches:
        _caches[config] = JwksCache(*config)
    return _caches[config]


def _key(kid: str) -> PyJWK:
    if settings.AUTH_JWKS_URL:
        return _jwks_cache().key(kid)
    try:
        return _local_keys(signing_key.configured_pem())[kid]
    except KeyError:
        raise UnknownKey(kid) from None


def published_key(kid: str) -> PyJWK:
    """The issuer's key `kid` as it publishes it now; UnknownKey once it no longer does."""
    return _key(kid)


def held_key(kid: str) -> PyJWK | None:
    """`published_key(kid)` when it can be answered at once (no fetch, no wait); None otherwise."""
    if settings.AUTH_JWKS_URL:
        return _jwks_cache().held(kid)
    try:
        return _key(kid)
    except UnknownKey:
        return None


@lru_cache(maxsize=4)
def _local_keys(pem: str) -> dict[str, PyJWK]:
    return {key.key_id: key for key in PyJWKSet.from_dict(signing_key.jwks_of(pem)).keys}


def _scopes(payload: dict[str, Any]) -> frozenset[str]:
    """Entra puts delegated scopes in `scp` (space-separated) and app roles in `roles`."""
    granted = set(str(payload.get("scp", "")).split())
    roles = payload.get("roles", [])
    if isinstance(roles, list):
        granted.update(str(role) for role in roles)
    return frozenset(granted & set(scope.ALL))


def validate(token: str) -> Claims:
    """The claims of a token we accept; InvalidToken saying why otherwise, KeysUnavailable when the
    issuer's keys cannot be fetched."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise InvalidToken("it is not a JWT") from None
    if header.get("alg") != ALGORITHM:
        raise InvalidToken(f"it must be signed with {ALGORITHM}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("it names no signing key (kid)")
    try:
        key = _key(kid)
    except UnknownKey:
        raise InvalidToken("it is signed with a key the issuer does not publish") from None
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=settings.AUTH_AUDIENCE,
            issuer=settings.AUTH_ISSUER,
            leeway=settings.AUTH_CLOCK_SKEW_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("it has expired") from None
    except jwt.InvalidAudienceError:
        raise InvalidToken("it is for another audience") from None
    except jwt.InvalidIssuerError:
        raise InvalidToken("it is from another issuer") from None
    except jwt.InvalidSignatureError:
        raise InvalidToken("its signature does not match") from None
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(str(exc)) from None
    return Claims(
        subject=str(payload["sub"]),
        client_id=str(payload.get("azp") or payload.get("appid") or ""),
        scopes=_scopes(payload),
    )


def issue(
    client_id: str,
    scopes: Iterable[str],
    subject: str | None = None,
    lifetime: int | None = None,
) -> str:
    """A token signed with the local key, shaped like an Entra v2 access token."""
    now = int(time.time())
    payload = {
        "iss": settings.AUTH_ISSUER[0],
        "aud": settings.AUTH_AUDIENCE[0],
        "sub": subject or client_id,
        "azp": client_id,
        "scp": " ".join(sorted(set(scopes))),
        "iat": now,
        "nbf": now,
        "exp": now + (lifetime or settings.AUTH_TOKEN_LIFETIME_SECONDS),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(
        payload, signing_key.private_key(), ALGORITHM, headers={"kid": signing_key.key_id()}
    )
