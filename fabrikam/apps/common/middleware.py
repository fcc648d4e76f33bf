"""Middleware every role runs first.

`ProbeMiddleware`: Kubernetes probes and the Prometheus scrape, answered before anything that
validates the Host header: the kubelet and Prometheus call by pod IP, which is in no ALLOWED_HOSTS
list, and over plain HTTP (no SSL redirect). They are neither logged nor counted as requests.

`ContentSecurityPolicyMiddleware`: the CSP header, which Django 5.2 does not set itself.

`RequestLogMiddleware`: one log line and one sample of the request metric per request, with the
route pattern (not the path, whose ids would make every request a series of its own).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from fabrikam.apps.common import views
from fabrikam.observability import metrics

logger = logging.getLogger("fabrikam.requests")

PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz/live": views.live,
    "/healthz/ready": views.ready,
    "/healthz/startup": views.startup,
    "/metrics": views.metrics,
}


class ProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        return probe(request) if probe is not None else self.get_response(request)


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        route = "/" + match.route if match is not None and match.route else ""
        log_request(request, route, response.status_code, seconds)
        return response


def log_request(request: HttpRequest, route: str, status: int, seconds: float) -> None:
    """A request's log line and its sample of the request metric (also the server's status fast
    path's, fabrikam/apps/deliveries/api/fast_status.py)."""
    metrics.record_request(settings.FABRIKAM_ROLE, request.method or "", route, status, seconds)
    logger.info(
        "%s %s %s %.1fms",
        request.method,
        request.get_full_path(),
        status,
        seconds * 1000,
        extra={
            "http_method": request.method,
            "http_route": route or None,
            "http_path": request.path,
            "http_status": status,
            "duration_ms": round(seconds * 1000, 2),
        },
    )


class ContentSecurityPolicyMiddleware:
    """CONTENT_SECURITY_POLICY on every response that does not set its own: pages load scripts
    and styles from this origin only and cannot be framed. The Swagger UI (`/api/docs/`) too: its
    assets come from the image (drf-spectacular-sidecar)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return add_content_security_policy(self.get_response(request))


def add_content_security_policy(response: HttpResponse) -> HttpResponse:
    policy = settings.CONTENT_SECURITY_POLICY
    if policy:
        response.headers.setdefault("Content-Security-Policy", policy)
    return response
