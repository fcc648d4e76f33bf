"""MONGODB_URI and friends, read by a fresh settings import in a child process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.live import ROOT

DOCUMENTDB_URI = (
    "mongodb+srv://fabrikamadmin:s3cret@mongo-fabrikam-prod.mongocluster.cosmos.azure.com/"
    "?tls=true&authMechanism=SCRAM-SHA-256&retrywrites=false&maxIdleTimeMS=120000"
)


def packages_settings(**env: str) -> dict:
    """The packages alias and routing as the settings build them from `env`."""
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps({'db': settings.DATABASES['packages'], "
        "'alias': settings.PACKAGES_DB_ALIAS, 'shares': settings.PACKAGES_SHARES_DEFAULT}))"
    )
    ours = {"MONGODB_URI", "MONGODB_DATABASE", "MONGODB_TIMEOUT", "PACKAGES_DATABASE_URL"}
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            **clean,
            # The test settings: the stores' own, plus the test database's mirror.
            "DJANGO_SETTINGS_MODULE": "fabrikam.settings.test",
            "DEBUG": "true",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode:
        return {"error": result.stderr}
    return json.loads(result.stdout)


def test_an_azure_documentdb_uri_puts_packages_on_mongodb_without_touching_dns():
    loaded = packages_settings(MONGODB_URI=DOCUMENTDB_URI)

    assert loaded["alias"] == "packages"
    assert loaded["shares"] is False
    db = loaded["db"]
    assert db["ENGINE"] == "django_mongodb_backend"
    assert db["HOST"] == DOCUMENTDB_URI  # TLS, auth and retrywrites reach pymongo as given
    assert db["NAME"] == "fabrikam"  # the portal's URI names no database
    assert db["OPTIONS"]["serverSelectionTimeoutMS"] == 5000


def test_the_database_comes_from_the_uri_path_or_mongodb_database():
    from_path = packages_settings(MONGODB_URI="mongodb://127.0.0.1:27017/orders")
    overridden = packages_settings(
        MONGODB_URI="mongodb://127.0.0.1:27017/orders", MONGODB_DATABASE="parcels"
    )

    assert from_path["db"]["NAME"] == "orders"
    assert overridden["db"]["NAME"] == "parcels"


def test_mongodb_timeout_bounds_how_long_a_request_waits_for_a_server():
    loaded = packages_settings(MONGODB_URI="mongodb://127.0.0.1:27017/", MONGODB_TIMEOUT="1.5")

    assert loaded["db"]["OPTIONS"]["serverSelectionTimeoutMS"] == 1500


def test_two_packages_databases_at_once_are_refused_naming_both():
    loaded = packages_settings(
        MONGODB_URI="mongodb://127.0.0.1:27017/", PACKAGES_DATABASE_URL="sqlite:///p.sqlite3"
    )

    assert "MONGODB_URI and PACKAGES_DATABASE_URL both name a packages database" in loaded["error"]


def test_without_a_packages_database_packages_share_the_default_one():
    loaded = packages_settings()

    assert (loaded["alias"], loaded["shares"]) == ("default", True)
    assert loaded["db"]["TEST"] == {"MIRROR": "default"}
