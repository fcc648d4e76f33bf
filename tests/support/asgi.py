"""Calling an ASGI application (the server's bridge) with one whole request, as gunicorn's worker
does, and collecting its answer."""

from __future__ import annotations

import asyncio
from typing import Any


async def call(app: Any, scope: dict[str, Any], body: bytes = b"") -> tuple[int, list, bytes]:
    """Status, headers and body of `app`'s answer to the request `scope` with `body`."""
    messages: list[dict[str, Any]] = []
    incoming = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(scope, receive, send)
    start = messages[0]
    return (
        start["status"],
        list(start["headers"]),
        b"".join(m.get("body", b"") for m in messages[1:]),
    )
