"""The issuer's public keys (a JWKS), fetched over HTTPS and cached.

Keys are refetched when the cache is older than AUTH_JWKS_CACHE_SECONDS, and early when a token
names a key id the cache does not hold (Entra rotated its keys), but then at most once every
AUTH_JWKS_MIN_REFRESH_SECONDS, so tokens with made-up key ids cannot make us hammer the issuer.
When a refetch fails, the keys already held keep working.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from jwt import PyJWK, PyJWKSet
from jwt.exceptions import PyJWKSetError

logger = logging.getLogger(__name__)


class KeysUnavailable(Exception):
    """No keys to check a token with: the issuer's JWKS could not be fetched."""


class UnknownKey(Exception):
    pass


def fetch_jwks(url: str, timeout: float) -> dict[str, Any]:
    response = requests.get(url, timeout=timeout)
    response.raise_for_status()
    return response.json()


class JwksCache:
    def __init__(
        self,
        url: str,
        max_age: float,
        min_refresh: float,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
        fetch: Callable[[str, float], dict[str, Any]] = fetch_jwks,
    ) -> None:
        self.url = url
        self.max_age = max_age
        self.min_refresh = min_refresh
        self.timeout = timeout
        self.clock = clock
        self.fetch = fetch
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._tried_at: float | None = None  # last attempt, successful or not
        self._lock = threading.Lock()

    def key(self, kid: str) -> PyJWK:
        with self._lock:
            now = self.clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self.max_age
            unknown = kid not in self._keys
            may_refetch = self._tried_at is None or now - self._tried_at >= self.min_refresh
            if (stale or unknown) and may_refetch:
                self._refresh(now)
            if not self._keys:
                raise KeysUnavailable(f"the signing keys at {self.url} could not be fetched")
            try:
                return self._keys[kid]
            except KeyError:
                raise UnknownKey(kid) from None

    def held(self, kid: str) -> PyJWK | None:
        """What `key` would answer without fetching: the key when held and no refetch is due;
        None when `key` would fetch, refuse it, or another thread is fetching (never waits)."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            now = self.clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self.max_age
            may_refetch = self._tried_at is None or now - self._tried_at >= self.min_refresh
            if (stale or kid not in self._keys) and may_refetch:
                return None
            return self._keys.get(kid)
        finally:
            self._lock.release()

    def _refresh(self, now: float) -> None:
        self._tried_at = now
        try:
            keys = PyJWKSet.from_dict(self.fetch(self.url, self.timeout)).keys
        except (requests.RequestException, ValueError, PyJWKSetError) as exc:
            logger.warning("could not refresh the signing keys from %s: %s", self.url, exc)
            return
        self._keys = {key.key_id: key for key in keys if key.key_id}
        self._fetched_at = now
