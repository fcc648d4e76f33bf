"""What kombu's Redis transport writes for a publish, for a publisher that sends it itself (the
ingestion's fast path, on the server's event loop): the message's envelope, the list it is pushed
to, and the redis.asyncio connection to the broker that kombu's channel would open.

kombu (virtual transport, Redis channel) turns a publish into one LPUSH of this JSON on the queue's
list (priority 0: the queue's own list, no priority step's): the body serialized and
base64-encoded, the task's headers, and the properties with the delivery info, the priority and a
fresh delivery tag.
`tests/ingestion/test_fast_requests.py` holds it equal to what kombu stores.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from kombu.entity import PERSISTENT_DELIVERY_MODE
from kombu.utils.json import dumps
from redis import UnixDomainSocketConnection
from redis import asyncio as redis_asyncio


def envelope(body: Any, headers: dict[str, Any], properties: dict[str, Any], queue: str) -> str:
    """The JSON kombu LPUSHes for a JSON-serialized, persistent publish of `body` to `queue` on the
    default exchange (as the ingestion's publisher makes it)."""
    return dumps(
        {
            "body": base64.b64encode(dumps(body).encode()).decode(),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": headers,
            "properties": {
                **properties,
                "delivery_mode": PERSISTENT_DELIVERY_MODE,
                "delivery_info": {"exchange": "", "routing_key": queue},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        }
    )


def async_pool(connparams: dict[str, Any], connect_timeout: float) -> Any:
    """A redis.asyncio pool for the server kombu's Redis channel reaches with `connparams` (its
    `_connparams()`: host and port, or a Unix socket's path; db, credentials)."""
    unix = connparams.get("connection_class") is UnixDomainSocketConnection
    options: dict[str, Any] = {
        "db": connparams.get("db") or 0,
        "username": connparams.get("username"),
        "password": connparams.get("password"),
    }
    if unix:
        return redis_asyncio.ConnectionPool(
            connection_class=redis_asyncio.UnixDomainSocketConnection,
            path=connparams["path"],
            **options,
        )
    return redis_asyncio.ConnectionPool(
        host=connparams["host"],
        port=connparams["port"],
        socket_connect_timeout=connect_timeout,
        **options,
    )
