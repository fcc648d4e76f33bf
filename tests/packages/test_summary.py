"""GET /api/packages/summary/{ownerId}?year=&month= → {totalWeight, count} from the store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.packages.factories import PackageFactory
from tests.packages.stores import PACKAGES_DATABASES

pytestmark = pytest.mark.django_db(databases=PACKAGES_DATABASES)

AGGREGATION_GAP = "Django's aggregate() is a $facet stage, which FerretDB does not implement"


def at(year: int, month: int, day: int = 15, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.fixture
def packages():
    """contoso: 2025-12 (2.5 kg), 2026-01 (1.25 + 0.1 + 0.2 kg), 2026-03 (4 kg);
    fabrikam: 2026-01 (50 kg), which never counts for contoso."""
    PackageFactory(owner_id="contoso", weight=2.5, created_at=at(2025, 12, 31, 23))
    PackageFactory(owner_id="contoso", weight=1.25, created_at=at(2026, 1, 1, 0))
    PackageFactory(owner_id="contoso", weight=0.1, created_at=at(2026, 1, 20))
    PackageFactory(owner_id="contoso", weight=0.2, created_at=at(2026, 1, 31, 23))
    PackageFactory(owner_id="contoso", weight=4.0, created_at=at(2026, 3, 2))
    PackageFactory(owner_id="fabrikam", weight=50.0, created_at=at(2026, 1, 10))


@pytest.mark.ferretdb_gap(AGGREGATION_GAP)
@pytest.mark.usefixtures("packages")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"totalWeight": 8.05, "count": 5}),
        ("?year=2026", {"totalWeight": 5.55, "count": 4}),
        ("?year=2026&month=1", {"totalWeight": 1.55, "count": 3}),
        ("?year=2025&month=12", {"totalWeight": 2.5, "count": 1}),
        ("?year=2026&month=2", {"totalWeight": 0.0, "count": 0}),
        ("?year=&month=", {"totalWeight": 8.05, "count": 5}),
    ],
)
def test_the_summary_adds_up_the_owners_packages_of_the_period(api, query, expected):
    response = api.get(f"/api/packages/summary/contoso{query}")

    assert response.status_code == 200
    assert response.json() == expected


@pytest.mark.ferretdb_gap(AGGREGATION_GAP)
def test_an_owner_without_packages_has_an_empty_summary(api):
    response = api.get("/api/packages/summary/nobody?year=2026")

    assert response.json() == {"totalWeight": 0.0, "count": 0}


@pytest.mark.ferretdb_gap(AGGREGATION_GAP)
def test_an_owner_id_with_a_space_is_summarized_too(api):
    PackageFactory(owner_id="contoso ltd", weight=3.0)

    response = api.get("/api/packages/summary/contoso%20ltd")

    assert response.json() == {"totalWeight": 3.0, "count": 1}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?year=twenty", "year"),
        ("?year=0", "year"),
        ("?year=99999", "year"),
        ("?year=2026&month=13", "month"),
        ("?year=2026&month=0", "month"),
        ("?year=2026&month=jan", "month"),
    ],
)
def test_a_bad_year_or_month_is_a_400_problem_naming_it(api, query, field):
    response = api.get(f"/api/packages/summary/contoso{query}")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == [field]


def test_a_month_without_its_year_is_a_422_naming_the_year(api):
    # Each parameter is valid alone (what the schema can say); together they are not.
    response = api.get("/api/packages/summary/contoso?month=3")

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {"year": ["A month needs a year."]}


def test_an_owner_id_longer_than_any_stored_one_is_a_400(api):
    response = api.get(f"/api/packages/summary/{'o' * 129}")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["ownerId"]
