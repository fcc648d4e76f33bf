"""Idempotency keys, in Redis with a TTL, claimed and settled atomically (Lua scripts).

The first request with a key records its fingerprint, delivery id and message id and takes a
short publishing lease. Later requests with that key:
- a different body → 422;
- the first was queued → the same delivery id, nothing published;
- the first is still publishing → wait (blocking stream read, bounded) for its outcome, then answer
  as it did; past the bound → 409 with Retry-After;
- the first failed, or its process died and the lease ran out → publish again under the same
  delivery id and message id, so a retry after an ambiguous failure cannot create a second delivery.

Keys are per API client (`scoped_key`): one client's key never meets another's, so it can neither
block another business's request nor be probed by it. The keys and the Redis calls are in
fabrikam.apps.ingestion.repository.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from fabrikam.apps.ingestion import repository
from fabrikam.apps.ingestion.exceptions import IdempotencyKeyReused, IdempotentRequestInProgress

PUBLISH = "publish"  # this request must publish (then `complete` or `abandon`)
QUEUED = "queued"  # an earlier request with the key is on the queue
FAILED = "failed"  # the request this one waited for could not be queued

MAX_KEY_LENGTH = 255

_CLAIM = """
local fp, id, mid, state = unpack(redis.call('HMGET', KEYS[1],
    'fingerprint', 'deliveryId', 'messageId', 'state'))
if not fp then
  redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'deliveryId', ARGV[2],
             'messageId', ARGV[3], 'state', 'publishing')
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[6])
  return {'publish', ARGV[2], ARGV[3]}
end
if fp ~= ARGV[1] then return {'mismatch', id, mid} end
if state == 'queued' then return {'queued', id, mid} end
if redis.call('SET', KEYS[2], ARGV[4], 'NX', 'PX', ARGV[6]) then
  return {'publish', id, mid}
end
local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
if #last > 0 then return {'wait', id, mid, last[1][1]} end
return {'wait', id, mid, '0-0'}
"""

_SETTLE = """
if ARGV[2] == 'queued' and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'state', 'queued')
end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', 16, '*', 'outcome', ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return 1
"""


@dataclass(frozen=True)
class Claim:
    key: str
    delivery_id: str
    message_id: str
    outcome: str  # PUBLISH, QUEUED or FAILED
    token: str = ""


def fingerprint(request: Any) -> str:
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def scoped_key(client_id: str, idempotency_key: str) -> str:
    """The key as stored: the client's own namespace (the token's azp/appid)."""
    return json.dumps([client_id, idempotency_key])


def publish_deadline() -> float:
    """The longest a publish can take: a free connection, connecting, then the broker's answer."""
    return settings.BROKER_CONNECT_TIMEOUT + 2 * settings.BROKER_PUBLISH_TIMEOUT


_keys = repository.idempotency_keys


def claim(
    idempotency_key: str, request_fingerprint: str, delivery_id: str, message_id: str
) -> Claim:
    """What this request must do with `idempotency_key` (see the module doc)."""
    token = secrets.token_hex(16)
    lease_ms = int(2 * publish_deadline() * 1000)
    answer = repository.run_idempotency_script(
        _CLAIM,
        idempotency_key,
        [
            request_fingerprint,
            delivery_id,
            message_id,
            token,
            settings.IDEMPOTENCY_KEY_TTL_SECONDS,
            lease_ms,
        ],
    )
    action, claimed_id, claimed_message_id, *since = (_text(part) for part in answer)
    if action == "mismatch":
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different request body; use a new key."
        )
    if action == PUBLISH:
        return Claim(idempotency_key, claimed_id, claimed_message_id, PUBLISH, token)
    if action == QUEUED:
        return Claim(idempotency_key, claimed_id, claimed_message_id, QUEUED)
    outcome = _await_outcome(idempotency_key, since[0])
    return Claim(idempotency_key, claimed_id, claimed_message_id, outcome)


def _await_outcome(idempotency_key: str, since: str) -> str:
    """Block on the key's outcome stream until the request holding the lease settles it."""
    deadline = time.monotonic() + publish_deadline() + 1
    while (remaining := deadline - time.monotonic()) > 0:
        # Blocks of at most a second stay well inside the Redis client's socket timeout.
        block_ms = max(1, int(min(remaining, 1.0) * 1000))
        outcome = repository.read_outcome(idempotency_key, since, block_ms)
        if outcome is not None:
            return outcome
    raise IdempotentRequestInProgress("Retry in a moment to get its result.")


def _settle(claim_: Claim, outcome: str) -> None:
    repository.run_idempotency_script(
        _SETTLE, claim_.key, [claim_.token, outcome, int(2 * publish_deadline() * 1000)]
    )


def complete(claim_: Claim) -> None:
    """The claimed request is on the queue: later requests with its key get its delivery id."""
    _settle(claim_, QUEUED)


def abandon(claim_: Claim) -> None:
    """Publishing failed: free the lease so a retry with the key publishes the same delivery."""
    _settle(claim_, FAILED)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
