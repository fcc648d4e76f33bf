"""The local signing key: what `issue_token` and local service tokens are signed with.

Given as AUTH_SIGNING_KEY (PEM, or AUTH_SIGNING_KEY_FILE from a Key Vault mount). With DEBUG and no
key, one is generated once into DATA_DIR, so every process of `make run` signs and validates with
the same key. Its public half, as a JWKS (`jwks_of`), is what validation uses when no AUTH_JWKS_URL
is set.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from jwt.algorithms import RSAAlgorithm


def generate_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@lru_cache(maxsize=4)
def _debug_key_pem(data_dir: str) -> str:
    """Read once per process: every token issued or checked needs it."""
    path = Path(data_dir) / "auth" / "signing-key.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        draft.write_text(generate_pem())
        draft.chmod(0o600)
        try:
            os.link(draft, path)  # atomic: of processes starting together, one key wins
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text()


def configured_pem() -> str:
    if settings.AUTH_SIGNING_KEY:
        return settings.AUTH_SIGNING_KEY
    if settings.DEBUG:
        return _debug_key_pem(str(settings.DATA_DIR))
    raise ImproperlyConfigured(
        "AUTH_SIGNING_KEY is not set: local tokens need a PEM RSA private key "
        "(or use Entra ID tokens: AUTH_ENTRA_TENANT_ID)"
    )


@lru_cache(maxsize=4)
def _load(pem: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"AUTH_SIGNING_KEY is not a PEM private key without a password: {exc}"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ImproperlyConfigured("AUTH_SIGNING_KEY must be an RSA key (tokens are RS256)")
    return key


def private_key() -> rsa.RSAPrivateKey:
    return _load(configured_pem())


def public_jwk(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> dict[str, Any]:
    """The public key as a JWK whose `kid` is its RFC 7638 thumbprint."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(public, as_dict=True)
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    jwk.update(kid=base64.urlsafe_b64encode(digest).rstrip(b"=").decode(), use="sig", alg="RS256")
    return jwk


@lru_cache(maxsize=4)
def _jwk_of(pem: str) -> dict[str, Any]:
    return public_jwk(_load(pem))


def key_id() -> str:
    return _jwk_of(configured_pem())["kid"]


def jwks_of(pem: str) -> dict[str, Any]:
    """The JWKS that checks tokens signed with `pem`."""
    return {"keys": [dict(_jwk_of(pem))]}
