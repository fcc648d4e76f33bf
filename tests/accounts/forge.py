"""Tokens built claim by claim, to test what validation refuses."""

from __future__ import annotations

import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from fabrikam.apps.accounts import signing_key


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    payload = {
        "iss": settings.AUTH_ISSUER[0],
        "aud": settings.AUTH_AUDIENCE[0],
        "sub": "someone",
        "azp": "tests",
        "scp": "internal admin deliveries.read deliveries.write",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    payload.update(overrides)
    return {name: value for name, value in payload.items() if value is not None}


def token(
    key: rsa.RSAPrivateKey | None = None,
    kid: str | None = None,
    headers: dict[str, Any] | None = None,
    **overrides: Any,
) -> str:
    """Signed RS256 with `key` (default: the session's signing key) and `kid` (default: the
    signing key's id)."""
    return jwt.encode(
        claims(**overrides),
        key or signing_key.private_key(),
        "RS256",
        headers={"kid": kid or signing_key.key_id(), **(headers or {})},
    )


def another_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)
