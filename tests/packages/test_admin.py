"""Packages in the back office: a list, search by id/owner/tag, a filter by size."""

from __future__ import annotations

import pytest

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
