"""Kubernetes probes answered before anything that validates the Host header: the kubelet calls
them by pod IP, which is in no ALLOWED_HOSTS list, and over plain HTTP (no SSL redirect)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from fabrikam.apps.common import views

PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz/live": views.live,
    "/healthz/ready": views.ready,
    "/healthz/startup": views.startup,
}


class ProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        return probe(request) if probe is not None else self.get_response(request)
