"""Where packages live and how: the router, the index that serves the summary, and on MongoDB
the collection and documents as pymongo sees them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.db import connections, router

from fabrikam.apps.packages import selectors
from fabrikam.apps.packages.models import Package
from fabrikam.apps.packages.routers import PackagesRouter
from tests.packages.factories import PackageFactory, package_body
from tests.packages.stores import PACKAGES_DATABASES

pytestmark = pytest.mark.django_db(databases=PACKAGES_DATABASES)


def test_packages_go_to_the_packages_alias_and_everything_else_to_default():
    assert router.db_for_write(Package) == settings.PACKAGES_DB_ALIAS
    assert router.db_for_read(Package) == settings.PACKAGES_DB_ALIAS
    assert router.db_for_write(LogEntry) == "default"
    assert router.db_for_read(User) == "default"


@pytest.mark.parametrize(
    ("shares_default", "db", "app", "allowed"),
    [
        (True, "default", "packages", True),
        (True, "default", "auth", True),
        (True, "packages", "packages", False),  # the same database: migrated once, via default
        (False, "packages", "packages", True),
        (False, "packages", "auth", False),  # no users or admin log on MongoDB
        (False, "default", "packages", False),
        (False, "default", "admin", True),
    ],
)
def test_each_app_is_migrated_on_its_own_database(shares_default, db, app, allowed):
    alias = "default" if shares_default else "packages"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "PACKAGES_SHARES_DEFAULT", shares_default)
        patch.setattr(settings, "PACKAGES_DB_ALIAS", alias)
        assert PackagesRouter().allow_migrate(db, app) is allowed


def test_the_migrations_made_the_summary_index_on_owner_and_registration_time():
    connection = connections[settings.PACKAGES_DB_ALIAS]
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "packages_package")

    index = constraints["package_owner_created"]
    assert index["index"]
    assert index["columns"] == ["owner_id", "created_at"]


@pytest.mark.ferretdb_gap(
    "its SQLite backend pushes no filter down, so every query scans", raises=AssertionError
)
def test_the_summary_query_is_served_by_the_owner_created_index():
    PackageFactory.create_batch(3, owner_id="contoso")
    packages = selectors.owner_packages("contoso", 2026, 1)
    connection = connections[settings.PACKAGES_DB_ALIAS]
    if connection.vendor == "postgresql":
        # Three rows are cheaper to scan; ask whether the index *can* serve the query.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")

    assert "package_owner_created" in packages.explain()


@pytest.mark.mongo
def test_on_mongodb_a_package_is_one_document_keyed_by_its_owner_and_id(api, mongo):
    api.put("/api/packages/pkg-1", package_body(deliveryState="InDelivery"), format="json")

    document = mongo["packages_package"].find_one({"_id": "contoso/pkg-1"})

    assert set(document) == {
        "_id",
        "package_id",
        "size",
        "weight",
        "tag",
        "owner_id",
        "delivery_state",
        "created_at",
        "updated_at",
    }
    fields = ("package_id", "size", "weight", "tag", "owner_id", "delivery_state")
    assert {k: document[k] for k in fields} == {
        "package_id": "pkg-1",
        "size": "Small",
        "weight": 1.5,
        "tag": "books",
        "owner_id": "contoso",
        "delivery_state": "InDelivery",
    }
    assert isinstance(document["weight"], float)  # a BSON double, so $sum adds numbers
    assert isinstance(document["created_at"], datetime)  # a BSON date, so ranges compare dates


@pytest.mark.mongo
def test_on_mongodb_the_collection_has_the_key_the_summary_and_the_per_owner_indexes(mongo):
    indexes = {index["name"]: index for index in mongo["packages_package"].list_indexes()}

    assert set(indexes) == {"_id_", "package_owner_created", "package_id_owner"}
    assert list(indexes["package_owner_created"]["key"].items()) == [
        ("owner_id", 1),
        ("created_at", 1),
    ]
    assert "unique" not in indexes["package_owner_created"]
    assert list(indexes["package_id_owner"]["key"].items()) == [("package_id", 1), ("owner_id", 1)]


@pytest.mark.mongo
def test_on_mongodb_a_second_package_of_one_owner_with_the_same_id_is_refused_by_the_store(
    mongo,
):
    from pymongo.errors import DuplicateKeyError

    PackageFactory(package_id="pkg-1", owner_id="contoso")

    with pytest.raises(DuplicateKeyError):
        mongo["packages_package"].insert_one({"_id": "contoso/pkg-1", "size": "Small"})


@pytest.mark.mongo
def test_on_mongodb_only_the_packages_app_has_collections(mongo):
    PackageFactory()

    assert set(mongo.list_collection_names()) == {"packages_package", "django_migrations"}


@pytest.mark.mongo
def test_on_mongodb_the_registration_time_is_stored_in_utc(mongo):
    PackageFactory(package_id="pkg-1", created_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC))

    stored = mongo["packages_package"].find_one({"package_id": "pkg-1"})["created_at"]

    assert stored == datetime(2026, 1, 31, 23, 30)  # naive BSON date, in UTC
