"""The application gunicorn serves (`fabrikam.asgi:application`): the project's WSGI application
(fabrikam.wsgi) behind fabrikam.server.wsgi_bridge, which hands it only requests that arrived
whole, and the status reads' fast path (STATUS_FAST_PATH) that answers them on the event loop."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from fabrikam.server.wsgi_bridge import WSGIBridge
from fabrikam.wsgi import application as wsgi_application

if TYPE_CHECKING:
    from fabrikam.apps.deliveries.api.fast_status import StatusFastPath


def _fast_path() -> StatusFastPath | None:
    if not settings.STATUS_FAST_PATH:
        return None
    from fabrikam.apps.deliveries.api.fast_status import StatusFastPath

    return StatusFastPath()


application = WSGIBridge(
    wsgi_application,
    threads=settings.GUNICORN_THREADS,
    max_body=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
    fast_path=_fast_path(),
)
