"""W3C Trace Context (https://www.w3.org/TR/trace-context/) for the messages ingestion publishes.

A request that arrives with a valid `traceparent` continues that trace: the message carries the
same trace id under a new parent id (the publish). Without one, or with a malformed one, the
message starts a new trace. `tracestate` is passed on only with the trace it belongs to.
"""

from __future__ import annotations

import re
import secrets

_TRACEPARENT = re.compile(
    r"^(?P<version>[0-9a-f]{2})-(?P<trace_id>[0-9a-f]{32})-(?P<parent_id>[0-9a-f]{16})"
    r"-(?P<flags>[0-9a-f]{2})(?:-.*)?$"
)
_INVALID_TRACE_ID = "0" * 32
_INVALID_PARENT_ID = "0" * 16
_MAX_TRACESTATE = 512


def _parent(traceparent: str | None) -> re.Match[str] | None:
    value = (traceparent or "").strip()
    match = _TRACEPARENT.match(value)
    if match is None or match["version"] == "ff":
        return None
    if match["version"] == "00" and len(value) != 55:  # version 00 has exactly four fields
        return None
    if match["trace_id"] == _INVALID_TRACE_ID or match["parent_id"] == _INVALID_PARENT_ID:
        return None
    return match


def message_headers(traceparent: str | None, tracestate: str | None = None) -> dict[str, str]:
    """`traceparent` (and `tracestate`) headers for a message published while handling a request
    that carried these headers."""
    parent = _parent(traceparent)
    if parent is None:
        return {"traceparent": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"}
    headers = {"traceparent": f"00-{parent['trace_id']}-{secrets.token_hex(8)}-{parent['flags']}"}
    if tracestate and len(tracestate) <= _MAX_TRACESTATE:
        headers["tracestate"] = tracestate.strip()
    return headers
