"""A checkout: `manage.py` and `make run` (the whole process tree) load these.

The same settings as production, except that DEBUG defaults to on, and with it what a developer's
machine should not need: a secret key, a token issuer (a signing key is made in DATA_DIR), HTTPS
cookies and HSTS; logs are plain text. DEBUG=false still turns it off.
"""

import os

from fabrikam.settings import env

# Before base reads it; `make run`'s gunicorn and Celery processes inherit it.
if env.raw("DEBUG") is None:
    os.environ["DEBUG"] = "true"

from fabrikam.settings.base import *  # noqa: F403
