"""The package role is ready when its own store answers, SQL or MongoDB."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.test import override_settings

from tests.packages.stores import PACKAGES_DATABASES
from tests.support.live import ROOT, free_port


@pytest.mark.django_db(databases=PACKAGES_DATABASES)
def test_the_package_role_is_ready_when_its_store_answers(client):
    with override_settings(FABRIKAM_ROLE="package"):
        response = client.get("/healthz/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "role": "package"}


def test_the_package_role_reports_a_mongodb_that_does_not_answer():
    script = (
        "import django, json; django.setup(); "
        "from fabrikam.apps.common.health import failing_stores; "
        "print(json.dumps(failing_stores('package')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "fabrikam.settings.production",
            "DEBUG": "true",
            "MONGODB_URI": f"mongodb://127.0.0.1:{free_port()}/fabrikam",  # nothing listens
            "MONGODB_TIMEOUT": "0.3",
            # The probe's own budget well above the driver's, so a busy machine still sees the
            # driver's answer rather than the probe giving up first ("no answer within 2s").
            "HEALTH_CHECK_TIMEOUT": "20",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    failing = json.loads(result.stdout)
    assert list(failing) == ["packages_database"]
    assert failing["packages_database"].startswith("ServerSelectionTimeoutError")
