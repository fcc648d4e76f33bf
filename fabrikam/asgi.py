"""The application gunicorn serves (`fabrikam.asgi:application`): the project's WSGI application
(fabrikam.wsgi) behind fabrikam.server.wsgi_bridge, which hands it only requests that arrived
whole, and the fast paths that answer some requests on the event loop: the status reads
(STATUS_FAST_PATH) and a delivery request's POST (INGEST_FAST_PATH)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from fabrikam.server.wsgi_bridge import WSGIBridge, by_method
from fabrikam.wsgi import application as wsgi_application

if TYPE_CHECKING:
    from fabrikam.apps.deliveries.api.fast_status import StatusFastPath
    from fabrikam.apps.ingestion.api.fast_requests import RequestsFastPath


def _fast_path() -> StatusFastPath | None:
    if not settings.STATUS_FAST_PATH:
        return None
    from fabrikam.apps.deliveries.api.fast_status import StatusFastPath

    return StatusFastPath()


def _ingest_fast_path() -> RequestsFastPath | None:
    if not settings.INGEST_FAST_PATH:
        return None
    from fabrikam.apps.ingestion.api.fast_requests import RequestsFastPath

    return RequestsFastPath()


application = WSGIBridge(
    wsgi_application,
    threads=settings.GUNICORN_THREADS,
    max_body=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
    fast_path=by_method({"GET": _fast_path(), "POST": _ingest_fast_path()}),
)
