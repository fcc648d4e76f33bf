"""The application gunicorn serves (`fabrikam.asgi:application`): the project's WSGI application
(fabrikam.wsgi) behind fabrikam.server.wsgi_bridge, which hands it only requests that arrived
whole."""

from django.conf import settings

from fabrikam.server.wsgi_bridge import WSGIBridge
from fabrikam.wsgi import application as wsgi_application

application = WSGIBridge(
    wsgi_application,
    threads=settings.GUNICORN_THREADS,
    max_body=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
)
