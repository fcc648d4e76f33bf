"""The server's bridge (fabrikam.server.wsgi_bridge) called as gunicorn's worker calls it: an ASGI
request made as the worker makes it, sent whole, and the answer collected."""

from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings

from fabrikam.server.wsgi_bridge import FastPath, WSGIBridge
from fabrikam.wsgi import application as wsgi_application


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


def scope(
    method: str,
    path: str,
    headers: list[tuple[str, str]],
    query: str = "",
    scheme: str = "http",
    client: str = "127.0.0.1",
) -> dict[str, Any]:
    """An ASGI request as gunicorn's worker makes it (`headers` as sent, Host among them)."""
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in headers],
        "server": ("testserver", 80),
        "client": (client, 50000),
    }


class Bridge:
    """The project's WSGI application behind the bridge, on `loop`, with `fast_path` (None: Django
    answers every request)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fast_path: FastPath | None) -> None:
        self.loop = loop
        self.bridge = WSGIBridge(
            wsgi_application,
            threads=2,
            max_body=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
            fast_path=fast_path,
        )

    async def send(self, request: dict[str, Any], body: bytes = b"") -> tuple[int, list, bytes]:
        return await call(self.bridge, request, body)

    def close(self) -> None:
        if self.bridge._executor is not None:
            self.bridge._executor.shutdown(wait=True)
