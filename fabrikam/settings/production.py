"""The image, the Helm chart, and gunicorn or Celery started on their own load these.

DEBUG is off unless DEBUG=true, so a process refuses to start without SECRET_KEY and a token
issuer (Entra ID, or AUTH_SIGNING_KEY), and cookies, HSTS and logs are production's
(security.py, observability.py). `manage.py check --deploy` passes with the chart's values.
"""

from fabrikam.settings.base import *  # noqa: F403
