"""PUT, GET and PATCH /api/packages/{packageId} (API.md "Packages")."""

from __future__ import annotations

import pytest

from fabrikam.apps.packages.models import Package
from tests.packages.factories import PackageFactory, package_body
from tests.packages.stores import PACKAGES_DATABASES

pytestmark = pytest.mark.django_db(databases=PACKAGES_DATABASES)

UPDATE_GAP = "updates are sent as pipelines (`u` is an array), which FerretDB refuses"


def test_put_creates_a_package_and_get_returns_it(api):
    created = api.put("/api/packages/pkg-1", package_body(size="medium"), format="json")

    assert created.status_code == 201
    expected = {
        "id": "pkg-1",
        "size": "Medium",
        "weight": 1.5,
        "tag": "books",
        "ownerId": "contoso",
        "deliveryState": "Registered",
    }
    assert created.json() == expected
    assert api.get("/api/packages/pkg-1").json() == expected


def test_put_takes_the_delivery_state_the_workflow_sends(api):
    api.put("/api/packages/pkg-1", package_body(deliveryState="InDelivery"), format="json")

    assert api.get("/api/packages/pkg-1").json()["deliveryState"] == "InDelivery"


@pytest.mark.ferretdb_gap(UPDATE_GAP)
def test_put_again_replaces_the_package_and_answers_204(api):
    PackageFactory(package_id="pkg-1", size="Large", weight=9.0, tag="old", owner_id="contoso")

    replaced = api.put("/api/packages/pkg-1", package_body(), format="json")

    assert replaced.status_code == 204
    assert replaced.content == b""
    package = api.get("/api/packages/pkg-1").json()
    assert (package["size"], package["weight"], package["tag"], package["ownerId"]) == (
        "Small",
        1.5,
        "books",
        "contoso",
    )
    assert Package.objects.count() == 1


@pytest.mark.ferretdb_gap(UPDATE_GAP)
def test_a_replayed_put_keeps_a_delivery_state_set_since(api):
    """A redelivered saga message must not undo a compensation that happened in between."""
    PackageFactory(package_id="pkg-1", delivery_state="NotInDelivery")

    assert api.put("/api/packages/pkg-1", package_body(), format="json").status_code == 204

    assert api.get("/api/packages/pkg-1").json()["deliveryState"] == "NotInDelivery"


def test_get_of_an_unknown_package_is_a_404_problem(api):
    response = api.get("/api/packages/nope")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("/package-not-found")
    assert response.json()["detail"] == "There is no package nope."


@pytest.mark.ferretdb_gap(UPDATE_GAP)
def test_patch_changes_only_the_fields_given(api):
    PackageFactory(package_id="pkg-1", size="Small", weight=2.0, tag="books", owner_id="contoso")

    response = api.patch("/api/packages/pkg-1", {"weight": 3.25}, format="json")

    assert response.status_code == 204
    package = api.get("/api/packages/pkg-1").json()
    assert (package["size"], package["weight"], package["tag"]) == ("Small", 3.25, "books")


@pytest.mark.ferretdb_gap(UPDATE_GAP)
def test_patch_records_the_compensation_of_a_delivery(api):
    PackageFactory(package_id="pkg-1", delivery_state="InDelivery")

    response = api.patch("/api/packages/pkg-1", {"deliveryState": "NotInDelivery"}, format="json")

    assert response.status_code == 204
    assert api.get("/api/packages/pkg-1").json()["deliveryState"] == "NotInDelivery"


@pytest.mark.ferretdb_gap(UPDATE_GAP)
def test_patch_moves_updated_at_but_not_created_at(api):
    package = PackageFactory(package_id="pkg-1")

    api.patch("/api/packages/pkg-1", {"tag": "fragile"}, format="json")

    stored = Package.objects.get(package_id="pkg-1")
    assert stored.created_at == package.created_at
    assert stored.updated_at > package.updated_at


def test_patch_of_an_unknown_package_is_a_404_and_creates_nothing(api):
    response = api.patch("/api/packages/nope", {"weight": 1.0}, format="json")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert api.get("/api/packages/nope").status_code == 404


def test_a_package_id_outside_the_id_alphabet_is_not_a_route(api):
    response = api.put("/api/packages/pkg 1", package_body(), format="json")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
