"""Packages in the back office: a list, search by id/owner/tag, a filter by size."""

from __future__ import annotations

import pytest

from fabrikam.apps.packages.models import Package
from tests.packages.factories import PackageFactory
from tests.packages.stores import PACKAGES_DATABASES

pytestmark = pytest.mark.django_db(databases=PACKAGES_DATABASES)

CHANGELIST = "/admin/packages/package/"
COUNT_GAP = "the change list counts rows with a $facet stage"


@pytest.fixture
def fleet_of_packages():
    PackageFactory(package_id="pkg-books", owner_id="contoso", tag="books", size="Small")
    PackageFactory(package_id="pkg-vase", owner_id="contoso", tag="fragile", size="Large")
    PackageFactory(package_id="pkg-tools", owner_id="fabrikam", tag="tools", size="Large")


def listed(response) -> set[str]:
    return {package.package_id for package in response.context["cl"].result_list}


@pytest.mark.ferretdb_gap(COUNT_GAP)
@pytest.mark.usefixtures("fleet_of_packages")
def test_the_change_list_shows_every_package(admin_client):
    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert listed(response) == {"pkg-books", "pkg-vase", "pkg-tools"}
    assert b"fragile" in response.content


@pytest.mark.ferretdb_gap(COUNT_GAP)
@pytest.mark.usefixtures("fleet_of_packages")
@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("pkg-vase", {"pkg-vase"}),  # by id
        ("fabrikam", {"pkg-tools"}),  # by owner
        ("BOOKS", {"pkg-books"}),  # by tag, case-insensitively
    ],
)
def test_search_finds_packages_by_id_owner_or_tag(admin_client, term, expected):
    assert listed(admin_client.get(CHANGELIST, {"q": term})) == expected


@pytest.mark.ferretdb_gap(COUNT_GAP)
@pytest.mark.usefixtures("fleet_of_packages")
def test_the_size_filter_narrows_the_list(admin_client):
    assert listed(admin_client.get(CHANGELIST, {"size__exact": "Large"})) == {
        "pkg-vase",
        "pkg-tools",
    }


@pytest.mark.usefixtures("fleet_of_packages")
def test_a_package_opens_in_the_change_form(admin_client):
    response = admin_client.get(f"{CHANGELIST}contoso_2Fpkg-vase/change/")

    assert response.status_code == 200
    assert response.context["original"].tag == "fragile"


def test_two_owners_packages_with_one_id_are_both_listed_by_owner(admin_client):
    PackageFactory(package_id="pkg-shared", owner_id="acme")
    PackageFactory(package_id="pkg-shared", owner_id="globex")

    response = admin_client.get(f"{CHANGELIST}acme_2Fpkg-shared/change/")

    assert response.status_code == 200
    assert response.context["original"].owner_id == "acme"
    assert {"package_id", "owner_id"} <= set(response.context["adminform"].readonly_fields)


@pytest.mark.ferretdb_gap("exists() projects a $literal, which FerretDB does not implement")
def test_adding_a_package_an_owner_already_has_is_refused_and_replaces_nothing(admin_client):
    PackageFactory(package_id="pkg-1", owner_id="acme", tag="books")
    form = {
        "package_id": "pkg-1",
        "owner_id": "acme",
        "size": "Large",
        "weight": "9",
        "tag": "anvil",
        "delivery_state": "Registered",
    }

    response = admin_client.post(f"{CHANGELIST}add/", form)

    assert response.status_code == 200  # the form again, with its error
    assert "already has a package with this id" in response.content.decode()
    assert Package.objects.get(package_id="pkg-1").tag == "books"
    form["owner_id"] = "globex"
    assert admin_client.post(f"{CHANGELIST}add/", form).status_code == 302
    assert Package.objects.filter(package_id="pkg-1").count() == 2
