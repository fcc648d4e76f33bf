import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrikam.settings.production")
django_application = get_wsgi_application()

from fabrikam.server.ascii_paths import AsciiPaths  # noqa: E402 - needs the settings
from fabrikam.server.chunked_bodies import ChunkedBodies  # noqa: E402 - needs the settings

application = AsciiPaths(ChunkedBodies(django_application))
