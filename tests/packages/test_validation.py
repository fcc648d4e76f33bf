"""Bad package bodies are 400 problems naming the field, and nothing is written."""

from __future__ import annotations

import pytest

from tests.packages.factories import PackageFactory, package_body
from tests.packages.stores import PACKAGES_DATABASES

pytestmark = pytest.mark.django_db(databases=PACKAGES_DATABASES)


def assert_invalid(response, field: str, message: str) -> None:
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/validation")
    assert message in " ".join(body["errors"][field])


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"size": "Huge"}, "size", '"Huge" is not a valid choice.'),
        ({"size": 3}, "size", '"3" is not a valid choice.'),
        ({"weight": -1.0}, "weight", "greater than or equal to 0.001"),
        ({"weight": 0}, "weight", "greater than or equal to 0.001"),
        ({"weight": 1e9}, "weight", "less than or equal to 100.0"),
        ({"weight": True}, "weight", "must be a number of kilograms"),
        ({"weight": "2"}, "weight", "must be a number of kilograms"),
        ({"tag": "x" * 101}, "tag", "no more than 100 characters"),
        ({"ownerId": ""}, "ownerId", "may not be blank"),
        ({"ownerId": "o" * 129}, "ownerId", "no more than 128 characters"),
        ({"ownerId": 42}, "ownerId", "Must be a string."),  # the schema says string (issue 16)
        ({"tag": 7}, "tag", "Must be a string."),
        ({"deliveryState": "Lost"}, "deliveryState", '"Lost" is not a valid choice.'),
    ],
)
def test_a_bad_field_in_a_put_is_a_400_naming_it_and_stores_nothing(api, overrides, field, message):
    response = api.put("/api/packages/pkg-1", package_body(**overrides), format="json")

    assert_invalid(response, field, message)
    assert api.get("/api/packages/pkg-1").status_code == 404


def test_a_put_without_the_required_fields_names_each_of_them(api):
    response = api.put("/api/packages/pkg-1", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"size", "weight", "ownerId"}


def test_a_weight_of_infinity_is_a_400_and_stores_nothing(api):
    response = api.put(
        "/api/packages/pkg-1",
        b'{"size": "Small", "weight": Infinity, "ownerId": "contoso"}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "Infinity" in response.json()["detail"]
    assert api.get("/api/packages/pkg-1").status_code == 404


def test_malformed_json_is_a_400_problem(api):
    response = api.put("/api/packages/pkg-1", b'{"size": "Small",', content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert api.get("/api/packages/pkg-1").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [({"size": "Huge"}, "size"), ({"weight": 500}, "weight"), ({"tag": "t" * 101}, "tag")],
)
def test_a_bad_field_in_a_patch_is_a_400_and_leaves_the_package_as_it_was(api, body, field):
    PackageFactory(package_id="pkg-1", size="Small", weight=2.0, tag="books")

    response = api.patch("/api/packages/pkg-1", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    package = api.get("/api/packages/pkg-1").json()
    assert (package["size"], package["weight"], package["tag"]) == ("Small", 2.0, "books")


@pytest.mark.parametrize("body", [{}, {"unknown": 1}])
def test_a_patch_with_nothing_to_change_is_a_400(api, body):
    PackageFactory(package_id="pkg-1", tag="books")

    response = api.patch("/api/packages/pkg-1", body, format="json")

    assert response.status_code == 400
    assert "Give at least one of size" in response.json()["errors"]["body"][0]
    assert api.get("/api/packages/pkg-1").json()["tag"] == "books"
