"""Kubernetes probes: live (the process answers), ready (own stores reachable), startup; and the
Prometheus scrape of this role's metrics."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from fabrikam.apps.common.health import failing_stores
from fabrikam.observability import metrics as role_metrics


@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "live", "role": settings.FABRIKAM_ROLE})


@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    failures = failing_stores(settings.FABRIKAM_ROLE)
    if failures:
        return JsonResponse(
            {"status": "unavailable", "role": settings.FABRIKAM_ROLE, "failing": failures},
            status=503,
        )
    return JsonResponse({"status": "ready", "role": settings.FABRIKAM_ROLE})


startup = ready


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    body, content_type = role_metrics.exposition(settings.FABRIKAM_ROLE)
    return HttpResponse(body, content_type=content_type)
