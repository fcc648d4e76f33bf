"""Request bodies sent with `Transfer-Encoding: chunked` (no Content-Length).

Django reads a body of unknown length as empty, so a chunked JSON body would be validated as `{}`
("field required"). This WSGI middleware reads such a body before Django sees the request, up to
MAX_REQUEST_BYTES, and gives it its length. It can do so only behind a server that removes the
chunk framing and marks the input's end (`wsgi.input_terminated`, as gunicorn does); behind any
other server a chunked body is refused with `411 Length Required`. A body over the limit is a `413`.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

from fabrikam.web.problems import wsgi_problem

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ChunkedBodies:
    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return self.app(environ, start_response)
        if not environ.get("wsgi.input_terminated"):
            return wsgi_problem(
                start_response,
                411,
                "Length Required",
                "This server cannot read a chunked body: send it with a Content-Length.",
                close=True,
            )
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = environ["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            return wsgi_problem(
                start_response,
                413,
                "Payload too large",
                f"The request body exceeds {limit} bytes.",
                close=True,  # the rest of the body is not read
            )
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)
