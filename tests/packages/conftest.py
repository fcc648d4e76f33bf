"""Package tests run on whichever store the settings give the `packages` alias: the SQL default
DB, or a MongoDB-wire server when MONGODB_URI is set (FerretDB in CI)."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from django.conf import settings
from django.db import DatabaseError, connections

from tests.support.tools import missing


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "ferretdb_gap(reason, raises=DatabaseError): the test needs a MongoDB feature FerretDB "
        "1.24 lacks; on FerretDB it must fail that way (strict xfail), elsewhere it must pass",
    )


def on_mongodb() -> bool:
    return settings.DATABASES[settings.PACKAGES_DB_ALIAS]["ENGINE"] == "django_mongodb_backend"


@cache
def ferretdb_version() -> str | None:
    """FerretDB's version when the packages store is a FerretDB server, else None."""
    if not on_mongodb():
        return None
    from pymongo import MongoClient

    with MongoClient(settings.MONGODB_URI, serverSelectionTimeoutMS=5000) as client:
        return client.admin.command("buildInfo").get("ferretdbVersion")


@pytest.fixture(autouse=True)
def _ferretdb_gap(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("ferretdb_gap")
    version = ferretdb_version()
    if marker is not None and version:
        reason = f"FerretDB {version}: {marker.args[0]}"
        raises = marker.kwargs.get("raises", DatabaseError)
        request.applymarker(pytest.mark.xfail(reason=reason, raises=raises, strict=True))


@pytest.fixture
def mongo() -> Any:
    """The pymongo database behind the packages alias (the test database)."""
    if not on_mongodb():
        missing("the packages store is not MongoDB: set MONGODB_URI (see .ci/start-ferretdb.sh)")
    connection = connections[settings.PACKAGES_DB_ALIAS]
    connection.ensure_connection()
    return connection.database
