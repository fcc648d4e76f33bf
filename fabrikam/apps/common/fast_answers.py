"""What the server's fast paths (fabrikam/apps/deliveries/api/fast_status.py,
fabrikam/apps/ingestion/api/fast_requests.py) share to answer a request on the event loop exactly
as Django would: the middleware stack they know, Django's resolution of a path, and Django's own
middleware for the request's checks, the response's headers, its log line and metric."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import Resolver404, ResolverMatch, URLResolver
from django.utils.log import log_response

from fabrikam.apps.common.middleware import add_content_security_policy, log_request
from fabrikam.server.wsgi_bridge import FastAnswer

JSON = "application/json"
# The Accept values DRF answers with JSONRenderer's plain output ("application/json; indent=4"
# would be indented, "text/html" refused): no header, anything, or JSON.
PLAIN_ACCEPT = frozenset({"", "*/*", JSON})
# The middleware whose effect on these reads the fast path reproduces (settings/base.py): with any
# other stack (a middleware added, OpenTelemetry's inserted) it answers nothing, and the tests that
# expect it to answer fail until this is looked at again.
MIDDLEWARE = (
    "fabrikam.apps.common.middleware.ProbeMiddleware",  # not a probe's path
    "fabrikam.apps.common.middleware.RequestLogMiddleware",  # log_request
    "django.middleware.security.SecurityMiddleware",  # called
    "fabrikam.apps.common.middleware.ContentSecurityPolicyMiddleware",  # called
    "whitenoise.middleware.WhiteNoiseMiddleware",  # not a static file's path
    "fabrikam.web.problems.ApiNotFoundMiddleware",  # a 200
    "fabrikam.web.case_insensitive_paths.CaseInsensitivePathMiddleware",  # resolved as sent
    "django.contrib.sessions.middleware.SessionMiddleware",  # no cookie, session untouched
    "django.middleware.common.CommonMiddleware",  # called
    "django.middleware.csrf.CsrfViewMiddleware",  # a GET to a csrf-exempt API view, no cookie
    "django.contrib.auth.middleware.AuthenticationMiddleware",  # lazy, unused
    "django.contrib.messages.middleware.MessageMiddleware",  # no messages
    "django.middleware.clickjacking.XFrameOptionsMiddleware",  # called
)


def known_middleware() -> bool:
    return tuple(settings.MIDDLEWARE) == MIDDLEWARE


def _unused(request: Any) -> Any:
    raise AssertionError("only the middleware's process_request/process_response are called")


@lru_cache(maxsize=1024)
def resolve(resolver: URLResolver, path: str) -> ResolverMatch | None:
    """Django's own resolution of `path` (a tracking page polls the same one again and again);
    per resolver, so a test's other URLconf resolves afresh."""
    try:
        return resolver.resolve(path)
    except Resolver404:
        return None


class DjangoEdges:
    """Django's middleware around a view, as far as a fast path's requests meet it."""

    def __init__(self) -> None:
        self.security = SecurityMiddleware(_unused)
        self.common = CommonMiddleware(_unused)
        self.frames = XFrameOptionsMiddleware(_unused)

    def refuses(self, request: WSGIRequest) -> bool:
        """Whether Django answers before the view (the SSL redirect, the host and user agent
        checks): then Django must answer."""
        try:
            return bool(
                self.security.process_request(request) or self.common.process_request(request)
            )
        except (SuspiciousOperation, PermissionDenied):
            return True

    def answer(
        self, request: WSGIRequest, response: HttpResponse, route: str, started: float
    ) -> FastAnswer:
        """`response` as Django's middleware hands it to the server, logged and counted."""
        headers = self.headers(request, response)
        log_request(request, route, response.status_code, time.perf_counter() - started)
        if response.status_code >= 400:  # Django's handler logs every error response, then
            log_response(
                "%s: %s", response.reason_phrase, request.path, response=response, request=request
            )
        return FastAnswer(response.status_code, headers, response.content)

    def headers(self, request: WSGIRequest, response: HttpResponse) -> list[tuple[bytes, bytes]]:
        """`response`'s headers once Django's middleware handled it, as the server sends them."""
        # Django's middleware, in the order it handles a response.
        self.frames.process_response(request, response)
        self.common.process_response(request, response)
        add_content_security_policy(response)
        self.security.process_response(request, response)
        return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.items()]
