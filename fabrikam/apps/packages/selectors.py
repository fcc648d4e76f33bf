"""Reads of packages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Count, QuerySet, Sum

from fabrikam.apps.packages.exceptions import AmbiguousPackage, PackageNotFound
from fabrikam.apps.packages.models import Package, storage_key

MAX_OWNERS_LISTED = 10


@dataclass(frozen=True)
class OwnerSummary:
    total_weight: float
    count: int


def get_package(package_id: str, owner_id: str | None) -> Package:
    """`owner_id`'s package `package_id`. Without an owner (admin and internal callers that name
    none) the only package with that id; several owners' → AmbiguousPackage."""
    if owner_id is not None:
        try:
            return Package.objects.get(key=storage_key(owner_id, package_id))
        except Package.DoesNotExist:
            raise PackageNotFound.of(package_id) from None
    # Sorted here: FerretDB answers a sorted projection with the field names for values.
    found = list(Package.objects.filter(package_id=package_id)[: MAX_OWNERS_LISTED + 1])
    if not found:
        raise PackageNotFound.of(package_id)
    if len(found) > 1:
        raise AmbiguousPackage.of(package_id, sorted(package.owner_id for package in found))
    return found[0]


def owner_packages(
    owner_id: str, year: int | None = None, month: int | None = None
) -> QuerySet[Package]:
    """The owner's packages registered in the year or month (UTC), or ever: an equality and a
    range that the (owner_id, created_at) index serves."""
    packages = Package.objects.filter(owner_id=owner_id)
    if year is not None:
        start, end = _period(year, month)
        packages = packages.filter(created_at__gte=start, created_at__lt=end)
    return packages


def owner_summary(owner_id: str, year: int | None = None, month: int | None = None) -> OwnerSummary:
    """Total weight and number of `owner_packages`, in one aggregation in the store."""
    packages = owner_packages(owner_id, year, month)
    totals = packages.aggregate(total_weight=Sum("weight"), count=Count("key"))
    # Summed floats drift (0.1 + 0.2); weights are accepted to the gram.
    return OwnerSummary(round(totals["total_weight"] or 0.0, 3), totals["count"])


def _period(year: int, month: int | None) -> tuple[datetime, datetime]:
    if month is None:
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end
