"""The baseline: a bare Django JSON view (no middleware, no auth, no store), served by the same
gunicorn shape as the system. What Django + gunicorn cost on this machine before any of our code."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-baseline-only",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)


def status(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"deliveryId": "bench", "stage": "Created"})


urlpatterns = [path("bare", status)]

from django.core.wsgi import get_wsgi_application  # noqa: E402 - after settings.configure

application = get_wsgi_application()
