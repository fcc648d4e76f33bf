"""An ASGI application that answers every request with the pid of the process serving it: which
gunicorn worker holds a connection (tests/common/test_gunicorn_listener.py)."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings

if not settings.configured:  # gunicorn imports this in its worker, without the project's settings
    settings.configure(GUNICORN_HEADER_TIMEOUT=10.0)  # read by fabrikam.server.gunicorn_worker


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = str(os.getpid()).encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
