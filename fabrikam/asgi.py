"""The application gunicorn serves (`fabrikam.asgi:application`): Django's WSGI application behind
fabrikam.wsgi_bridge, which hands it only requests that have arrived whole."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrikam.settings")

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from fabrikam.wsgi_bridge import WSGIBridge

application = WSGIBridge(
    get_wsgi_application(),
    threads=settings.GUNICORN_THREADS,
    max_body=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
)
