"""What stands in front of Django in every HTTP role: gunicorn's asyncio worker and hooks,
the bridge that hands Django only whole requests, and the WSGI middlewares below Django."""
