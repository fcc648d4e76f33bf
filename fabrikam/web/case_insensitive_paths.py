"""Accepts the reference implementation's mixed-case paths (`/api/Deliveries/{id}`).

Routes are declared lower-case. A path that does not resolve as sent is retried with its route
keywords lower-cased; identifiers keep their case, and a path that resolves as sent is untouched.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, get_resolver

KEYWORDS = frozenset(
    {
        "api",
        "deliveries",
        "deliveryrequests",
        "dronedeliveries",
        "drones",
        "packages",
        "public",
        "owner",
        "status",
        "events",
        "summary",
        "confirmations",
        "notifymerequests",
        "tracking",
        "stream",
        "utilization",
        "track",
    }
)


def normalize(path: str) -> str:
    return "/".join(s.lower() if s.lower() in KEYWORDS else s for s in path.split("/"))


class CaseInsensitivePathMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        normalized = normalize(request.path_info)
        if normalized != request.path_info:
            resolver = get_resolver(getattr(request, "urlconf", None))
            try:
                resolver.resolve(request.path_info)
            except Resolver404:
                request.path_info = normalized
                request.path = request.path[: len(request.path) - len(normalized)] + normalized
        return self.get_response(request)
