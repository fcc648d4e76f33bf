"""The Celery application shared by the ingestion publisher, the workflow worker and beat."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrikam.settings")

app = Celery("fabrikam")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
