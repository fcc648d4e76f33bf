"""A package belongs to its owner: the same package id used by two businesses is two packages
(issue 16). One business's delivery request can neither change nor reveal another's package."""

from __future__ import annotations

import pytest

from tests.accounts.conftest import business_api  # noqa: F401 - fixture
from tests.packages.factories import PackageFactory, package_body
from tests.packages.stores import PACKAGES_DATABASES

pytestmark = pytest.mark.django_db(databases=PACKAGES_DATABASES)

UPDATE_GAP = "updates are sent as pipelines (`u` is an array), which FerretDB refuses"


@pytest.fixture
def acme(business_api):  # noqa: F811 - the fixture imported above
    return business_api("acme")


@pytest.fixture
def globex(business_api):  # noqa: F811
    return business_api("globex")


def put_as_the_saga(api, owner_id: str, **fields: object):
    """The workflow's package step for a delivery request of `owner_id` with package pkg-1."""
    body = package_body(ownerId=owner_id, deliveryState="InDelivery", **fields)
    return api.put("/api/packages/pkg-1", body, format="json")


def test_another_business_reusing_a_package_id_changes_and_learns_nothing(api, acme, globex):
    assert put_as_the_saga(api, "acme", size="Small", weight=1.5, tag="books").status_code == 201
    before = acme.get("/api/packages/pkg-1").json()

    # Globex requests a delivery naming acme's package id; the saga registers globex's package.
    theirs = put_as_the_saga(api, "globex", size="Large", weight=9.0, tag="anvil")

    assert theirs.status_code == 201  # a package of its own, not a replaced one
    mine = acme.get("/api/packages/pkg-1")
    assert mine.status_code == 200
    assert mine.json() == before
    assert (before["size"], before["weight"], before["tag"], before["ownerId"]) == (
        "Small",
        1.5,
        "books",
        "acme",
    )
    assert globex.get("/api/packages/pkg-1").json() | {"deliveryState": "-"} == {
        "id": "pkg-1",
        "size": "Large",
        "weight": 9.0,
        "tag": "anvil",
        "ownerId": "globex",
        "deliveryState": "-",
    }


@pytest.mark.ferretdb_gap("the summary is a $facet aggregation")
def test_each_owner_summary_counts_only_its_own_package_of_a_shared_id(api, acme, globex):
    put_as_the_saga(api, "acme", weight=1.5)
    put_as_the_saga(api, "globex", weight=9.0)

    assert acme.get("/api/packages/summary/acme").json() == {"totalWeight": 1.5, "count": 1}
    assert globex.get("/api/packages/summary/globex").json() == {"totalWeight": 9.0, "count": 1}


def test_a_business_gets_only_its_own_package_of_an_id(acme, globex):
    PackageFactory(package_id="pkg-1", owner_id="acme")

    assert acme.get("/api/packages/pkg-1").status_code == 200
    hidden = globex.get("/api/packages/pkg-1")
    missing = globex.get("/api/packages/pkg-never")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["title"] == missing.json()["title"]


def test_a_business_naming_another_owner_is_refused(acme):
    PackageFactory(package_id="pkg-1", owner_id="globex")

    assert acme.get("/api/packages/pkg-1?ownerId=acme").status_code == 404
    refused = acme.get("/api/packages/pkg-1?ownerId=globex")
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"


def test_admin_and_internal_callers_name_the_owner_of_a_shared_id(api):
    PackageFactory(package_id="pkg-1", owner_id="acme", tag="books")
    PackageFactory(package_id="pkg-1", owner_id="globex", tag="anvil")

    ambiguous = api.get("/api/packages/pkg-1")
    assert ambiguous.status_code == 409
    assert ambiguous["Content-Type"] == "application/problem+json"
    assert ambiguous.json()["owners"] == ["acme", "globex"]
    assert "?ownerId=" in ambiguous.json()["detail"]
    assert api.get("/api/packages/pkg-1?ownerId=acme").json()["tag"] == "books"
    assert api.get("/api/packages/pkg-1?ownerId=globex").json()["tag"] == "anvil"
    assert api.get("/api/packages/pkg-1?ownerId=initech").status_code == 404


def test_admin_and_internal_callers_get_the_only_package_of_an_id_without_naming_its_owner(api):
    PackageFactory(package_id="pkg-1", owner_id="acme", tag="books")

    assert api.get("/api/packages/pkg-1").json()["tag"] == "books"


@pytest.mark.ferretdb_gap(UPDATE_GAP)
def test_a_patch_naming_the_owner_changes_only_that_owners_package(api, acme, globex):
    put_as_the_saga(api, "acme")
    put_as_the_saga(api, "globex")

    response = api.patch(
        "/api/packages/pkg-1?ownerId=globex", {"deliveryState": "NotInDelivery"}, format="json"
    )

    assert response.status_code == 204
    assert globex.get("/api/packages/pkg-1").json()["deliveryState"] == "NotInDelivery"
    assert acme.get("/api/packages/pkg-1").json()["deliveryState"] == "InDelivery"


def test_a_patch_of_a_shared_id_without_an_owner_is_refused_and_changes_nothing(api):
    PackageFactory(package_id="pkg-1", owner_id="acme", tag="books")
    PackageFactory(package_id="pkg-1", owner_id="globex", tag="anvil")

    response = api.patch("/api/packages/pkg-1", {"tag": "changed"}, format="json")

    assert response.status_code == 409
    assert api.get("/api/packages/pkg-1?ownerId=acme").json()["tag"] == "books"
    assert api.get("/api/packages/pkg-1?ownerId=globex").json()["tag"] == "anvil"


def test_a_patch_cannot_move_a_package_to_another_owner(api):
    PackageFactory(package_id="pkg-1", owner_id="acme")

    response = api.patch("/api/packages/pkg-1?ownerId=acme", {"ownerId": "globex"}, format="json")

    assert response.status_code == 400
    assert "ownerId" in response.json()["errors"]
    assert api.get("/api/packages/pkg-1").json()["ownerId"] == "acme"


def test_a_put_whose_query_owner_contradicts_its_body_is_refused(api):
    response = api.put(
        "/api/packages/pkg-1?ownerId=acme", package_body(ownerId="globex"), format="json"
    )

    assert response.status_code == 400
    assert "ownerId" in response.json()["errors"]
    assert api.get("/api/packages/pkg-1").status_code == 404
