"""Migration 0002 re-keys the packages a store already holds from `packageId` to
`owner/packageId`, on the SQL default DB and on MongoDB alike, and back while no id is shared."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from fabrikam.apps.packages.models import Package
from tests.packages.stores import PACKAGES_DATABASES

pytestmark = pytest.mark.django_db(databases=PACKAGES_DATABASES, transaction=True)

BEFORE = [("packages", "0001_initial")]
AFTER = [("packages", "0002_package_per_owner")]
REGISTERED = datetime(2026, 1, 15, 12, tzinfo=UTC)


def migrate(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connections[settings.PACKAGES_DB_ALIAS])
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_store() -> Iterator:
    """The packages store as migration 0001 left it; the latest schema again afterwards."""
    old_apps = migrate(BEFORE)
    yield old_apps.get_model("packages", "Package")
    migrate(AFTER)


def test_existing_packages_are_rekeyed_by_owner_and_keep_their_data(old_store):
    old_store.objects.create(
        id="pkg-1", size="Small", weight=1.5, tag="books", owner_id="acme", created_at=REGISTERED
    )
    old_store.objects.create(id="pkg-2", size="Large", weight=9.0, tag="", owner_id="globex")

    migrate(AFTER)

    packages = {p.key: p for p in Package.objects.all()}
    assert set(packages) == {"acme/pkg-1", "globex/pkg-2"}
    first = packages["acme/pkg-1"]
    assert (first.package_id, first.owner_id, first.size, first.weight, first.tag) == (
        "pkg-1",
        "acme",
        "Small",
        1.5,
        "books",
    )
    assert first.created_at == REGISTERED
    assert packages["globex/pkg-2"].package_id == "pkg-2"


def test_migrating_back_restores_the_single_namespace(old_store):
    old_store.objects.create(id="pkg-1", size="Small", weight=1.5, owner_id="acme")
    migrate(AFTER)

    old_apps = migrate(BEFORE)

    restored = old_apps.get_model("packages", "Package").objects.get()
    assert (restored.id, restored.owner_id) == ("pkg-1", "acme")
