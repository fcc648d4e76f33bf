"""Settings, split by what they configure. Which module a process loads:

- `fabrikam.settings.local`: a checkout (`manage.py`, `make run`): DEBUG on unless DEBUG=false.
- `fabrikam.settings.production`: the image, the Helm chart, gunicorn and Celery started on their
  own: DEBUG off unless DEBUG=true, so a secret key and a token issuer are required.
- `fabrikam.settings.test`: pytest (pyproject.toml).

Each of them builds on `base`, which gathers the Django project and one module per integration
(stores, messaging, workflow, observability, security) and per context that has settings of its
own (ingestion, deliveries, dronescheduler). Every variable is read in exactly one module, with the
typed readers of fabrikam/settings/env.py. DJANGO_SETTINGS_MODULE, when set, picks the module.
"""

import os

# The name of the single settings file this package replaced: it stays a name for production
# (DEBUG off unless set), so an environment or a script that still says it runs as before.
if os.environ.get("DJANGO_SETTINGS_MODULE") == __name__:
    from fabrikam.settings.production import *  # noqa: F403
