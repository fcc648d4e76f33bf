"""POSTs through the server's bridge (fabrikam.server.wsgi_bridge) as gunicorn's worker calls it,
with the ingestion's fast path (fabrikam/apps/ingestion/api/fast_requests.py) or without it.

`through_the_bridge` makes every DRF test client of a test send its requests there instead of
calling Django directly, so the same behaviour tests run against both paths. With the fast path,
a token's verification and its client are put in the process's caches before its request (as an
earlier request would have), so that the fast path can answer it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from django.http import HttpResponse
from rest_framework.test import APIClient

from fabrikam.apps.accounts.authentication import BearerTokenAuthentication
from fabrikam.apps.ingestion.api.fast_requests import RequestsFastPath
from fabrikam.server.wsgi_bridge import by_method
from tests.support import asgi


class Server(asgi.Bridge):
    """The bridge on one event loop, with the fast path (`fast`) or without."""

    def __init__(self, fast: bool) -> None:
        self.fast_path = RequestsFastPath() if fast else None
        super().__init__(asyncio.new_event_loop(), by_method({"POST": self.fast_path}))

    @property
    def answered_fast(self) -> int:
        return self.fast_path.answered if self.fast_path is not None else 0

    def call(self, environ: dict[str, Any]) -> HttpResponse:
        """A WSGI environ (as Django's test client builds it) sent through the bridge."""
        if self.fast_path is not None:
            _cache_token(environ.get("HTTP_AUTHORIZATION", ""))
        answer = self.send(scope_of(environ), _body(environ))
        return response_of(*self.loop.run_until_complete(answer))

    def close(self) -> None:
        super().close()
        self.loop.close()


def _cache_token(header: str) -> None:
    if not header:
        return
    with contextlib.suppress(Exception):  # Django answers it as it would anyway (401, 403)
        BearerTokenAuthentication().authenticate(_Meta({"HTTP_AUTHORIZATION": header}))


class _Meta:
    def __init__(self, meta: dict[str, str]) -> None:
        self.META = meta


def _body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def scope_of(environ: dict[str, Any]) -> dict[str, Any]:
    """The ASGI request gunicorn's worker would make of this WSGI environ."""
    headers = [("host", environ.get("HTTP_HOST", "testserver"))]
    if environ.get("CONTENT_TYPE"):
        headers.append(("content-type", environ["CONTENT_TYPE"]))
    for key, value in environ.items():
        if key.startswith("HTTP_") and key != "HTTP_HOST" and value != "":  # the test
            # client's empty Cookie, which no HTTP client sends
            headers.append((key[5:].lower().replace("_", "-"), value))
    return asgi.scope(
        environ["REQUEST_METHOD"],
        environ["PATH_INFO"],
        headers,
        environ.get("QUERY_STRING", ""),
        client=environ.get("REMOTE_ADDR", "127.0.0.1"),
    )


def response_of(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> HttpResponse:
    """The bridge's answer as a Django response (what a test reads from the test client)."""
    response = HttpResponse(body, status=status)
    del response["Content-Type"]
    for name, value in headers:
        response[name.decode("latin-1")] = value.decode("latin-1")
    response.json = lambda: json.loads(body)  # type: ignore[attr-defined]
    response.raw_headers = list(headers)  # type: ignore[attr-defined]
    return response


class BridgedClient(APIClient):
    server: Server | None = None

    def request(self, **kwargs: Any) -> Any:
        assert self.server is not None
        kwargs.update(self._credentials)
        return self.server.call(self._base_environ(**kwargs))
