"""Paths with characters outside ASCII are answered 404 before Django sees them.

No route has such characters (ids are `[A-Za-z0-9_.-]`), and Django puts the UTF-8-decoded path
back into `environ["PATH_INFO"]`, where the OpenTelemetry middleware re-encodes it as Latin-1 and
fails on any character beyond U+00FF: a 500 for a path a fuzzer (or an attacker) sends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fabrikam.server.chunked_bodies import WsgiApp
from fabrikam.web.problems import wsgi_problem


class AsciiPaths:
    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO", "").isascii():  # a WSGI string: the bytes as Latin-1
            return self.app(environ, start_response)
        return wsgi_problem(start_response, 404, "Not found", "No resource at this path.")
