"""Calling the package, drone scheduler and delivery contexts inside this process, for a process
that serves them too (the `all` role of `make run`; `roles.calls_in_process`).

A call is dispatched to the same DRF view the HTTP request would reach, with the same service token:
the same authentication, scope check, parsing, serializer validation, service function and
problem+json exception handler. Only the HTTP hop is skipped (requests, the socket, gunicorn and the
middleware stack), so a call is refused with the same status and detail as over HTTP, and the
answer maps to `TransientError`/`PermanentError` exactly as `ServiceClient` maps it.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from celery.exceptions import SoftTimeLimitExceeded
from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections
from django.urls import Resolver404, resolve
from rest_framework.exceptions import APIException

from fabrikam.apps.accounts import tokens, verified_tokens
from fabrikam.apps.accounts.authentication import principal_for
from fabrikam.apps.accounts.principal import Principal
from fabrikam.apps.accounts.tokens import Claims
from fabrikam.interservice.http import error_for  # read an answer as ServiceClient reads it
from fabrikam.web import problems

logger = logging.getLogger(__name__)


class InProcessResponse:
    """What the saga reads of an answer: its status and JSON body (`requests.Response`'s names)."""

    def __init__(self, status_code: int, content: bytes, headers: Any) -> None:
        self.status_code = status_code
        self.content = content
        self.headers = headers

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


def _authenticated(authorization: str) -> tuple[Principal, Claims] | None:
    """What the views' authentication makes of `authorization` (its signature checked once per
    token: `verified_tokens`); None when it refuses it (the view then checks the header itself
    and refuses it the same way)."""
    kind, _, token = authorization.partition(" ")
    if kind.lower() != "bearer":
        return None
    try:
        claims = verified_tokens.validate(token.strip())
        return principal_for(claims), claims
    except (tokens.InvalidToken, tokens.KeysUnavailable, APIException):
        return None


class InProcessClient:
    """Same interface as `fabrikam.interservice.http.ServiceClient` (put, patch, delete, get,
    post)."""

    def __init__(self, name: str, authorization: Callable[[], str]) -> None:
        self.name = name
        self.authorization = authorization

    def request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> InProcessResponse:
        content = b"" if body is None else json.dumps(body).encode()
        url = urlsplit(path)
        request = WSGIRequest(
            {
                "REQUEST_METHOD": method,
                "PATH_INFO": unquote(url.path),  # as a WSGI server hands it to Django
                "QUERY_STRING": url.query,  # e.g. the package's ?ownerId=
                "SCRIPT_NAME": "",
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "80",
                "REMOTE_ADDR": "127.0.0.1",
                "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(content),
                "CONTENT_LENGTH": str(len(content)),
                "CONTENT_TYPE": "application/json" if body is not None else "",
                "HTTP_ACCEPT": "application/json",
                "HTTP_AUTHORIZATION": self.authorization(),
            }
        )
        if (known := _authenticated(request.META["HTTP_AUTHORIZATION"])) is not None:
            # DRF's own hook: the view's authentication yields this principal without re-checking
            # the token's signature; scopes and permissions are checked as on every request.
            request._force_auth_user, request._force_auth_token = known
        answer = self._dispatch(request)
        url = f"in-process:{path}"
        if answer.status_code >= 400:
            raise error_for(self.name, method, url, answer)
        return answer

    @staticmethod
    def _dispatch(request: WSGIRequest) -> InProcessResponse:
        """The view's answer, or the 404 and 500 the HTTP stack would give."""
        try:
            match = resolve(request.path_info)
        except Resolver404:
            response = problems.not_found(request)
        else:
            try:
                response = match.func(request, *match.args, **match.kwargs)
                response.render()
            except SoftTimeLimitExceeded:
                raise
            except Exception:  # what Django answers with a 500 over HTTP
                logger.exception("in-process %s %s failed", request.method, request.path)
                close_old_connections()  # a broken connection is not reused by the next call
                response = problems.server_error(request)
        return InProcessResponse(response.status_code, response.content, response.headers)

    def put(self, path: str, json: Mapping[str, Any]) -> InProcessResponse:
        return self.request("PUT", path, json)

    def patch(self, path: str, json: Mapping[str, Any]) -> InProcessResponse:
        return self.request("PATCH", path, json)

    def delete(self, path: str, json: Mapping[str, Any] | None = None) -> InProcessResponse:
        return self.request("DELETE", path, json)

    def get(self, path: str) -> InProcessResponse:
        return self.request("GET", path)

    def post(self, path: str, json: Mapping[str, Any]) -> InProcessResponse:
        return self.request("POST", path, json)
