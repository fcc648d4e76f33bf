"""The baseline: a bare Django JSON view (no middleware, no auth, no store), served by the same
gunicorn shape as the system. What Django + gunicorn cost on this machine before any of our code."""

from __future__ import annotations

import os

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
    GUNICORN_HEADER_TIMEOUT=10.0,  # read by fabrikam.server.gunicorn_worker, as in the system
)


def status(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"deliveryId": "bench", "stage": "Created"})


urlpatterns = [path("bare", status)]

from django.core.wsgi import get_wsgi_application  # noqa: E402 - after settings.configure

from fabrikam.server.wsgi_bridge import WSGIBridge  # noqa: E402 - after settings.configure

# The same front as the system (fabrikam.asgi): the asyncio worker hands whole requests to
# GUNICORN_THREADS threads.
application = WSGIBridge(
    get_wsgi_application(),
    threads=int(os.environ.get("GUNICORN_THREADS", "4")),
    max_body=1024 * 1024,
)
