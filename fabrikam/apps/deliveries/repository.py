"""The only code that talks to the deliveries store: Redis, through django-redis's connection.

Keys (namespaced and versioned, `<prefix>:deliveries:v1:...`):
  d:<id>                 the delivery, a compact JSON document
  ev:<id>                its tracking events, a Redis Stream (oldest first)
  own:<ownerId>:<yyyy-mm> the ids of the owner's deliveries created that month (summary index)
Writes that belong together run as one Lua script, so a reader never sees half of one.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection

VERSION = "v1"

# KEYS: doc, events, owner index. ARGV: doc json, stage, location json, timestamp, id.
# Returns 1 when the delivery was created, 0 when replaced.
_UPSERT = """
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1])
if existed == 0 then
  redis.call('XADD', KEYS[2], '*', 'stage', ARGV[2], 'location', ARGV[3], 'timestamp', ARGV[4])
  redis.call('SADD', KEYS[3], ARGV[5])
  return 1
end
return 0
"""


def _redis() -> Any:
    return get_redis_connection("default")


def key(*parts: str) -> str:
    return ":".join((settings.REDIS_KEY_PREFIX, "deliveries", VERSION, *parts))


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def load(delivery_id: str) -> dict[str, Any] | None:
    raw = _redis().get(key("d", delivery_id))
    return json.loads(raw) if raw else None


def upsert(document: dict[str, Any], event: dict[str, Any], owner_id: str, month: str) -> bool:
    """Create or replace the delivery; on create also record `event` and index it by owner."""
    delivery_id = document["id"]
    created = _redis().eval(
        _UPSERT,
        3,
        key("d", delivery_id),
        key("ev", delivery_id),
        key("own", owner_id, month),
        _dumps(document),
        event["stage"],
        _dumps(event["location"]),
        event["timestamp"],
        delivery_id,
    )
    return bool(created)


def events(delivery_id: str) -> list[dict[str, Any]]:
    return [
        {
            "stage": fields[b"stage"].decode(),
            "location": json.loads(fields[b"location"]),
            "timestamp": fields[b"timestamp"].decode(),
        }
        for _id, fields in _redis().xrange(key("ev", delivery_id))
    ]
