"""Writes to packages. A package is named by its owner and its id (see models.Package)."""

from __future__ import annotations

from typing import TypedDict

from django.db import IntegrityError, router, transaction
from django.utils import timezone

from fabrikam.apps.packages import selectors
from fabrikam.apps.packages.exceptions import PackageNotFound
from fabrikam.apps.packages.models import Package, storage_key


class PackageFields(TypedDict, total=False):
    """A package's writable fields, as the API's serializers validate them (a PUT has all but
    `delivery_state`; a PATCH any of them)."""

    size: str
    weight: float
    tag: str
    delivery_state: str


def upsert_package(owner_id: str, package_id: str, fields: PackageFields) -> tuple[Package, bool]:
    """Create or replace `owner_id`'s package `package_id` (idempotent PUT). Returns (package,
    created). Another owner's package with the same id is a different package, never touched.

    A replaced package keeps its delivery state unless `fields` names one: a redelivered saga
    message must not undo a later compensation.
    """
    package = Package(owner_id=owner_id, package_id=package_id, **fields)
    try:
        # Most PUTs create (the saga's first step): one INSERT, not a read, a savepoint and a write.
        with transaction.atomic(using=router.db_for_write(Package)):
            package.save()  # an insert: models.Package.save
        return package, True
    except IntegrityError:
        pass  # it exists (a redelivered message, or a concurrent PUT that won): replace it
    return Package.objects.update_or_create(
        key=storage_key(owner_id, package_id),
        defaults={**fields, "owner_id": owner_id, "package_id": package_id},
    )


def update_package(owner_id: str | None, package_id: str, fields: PackageFields) -> None:
    """Change some fields of a package (PATCH) in one write. Without an owner, the only package
    with the id (see selectors.get_package)."""
    if owner_id is None:
        key = selectors.get_package(package_id, None).key
    else:
        key = storage_key(owner_id, package_id)
    updated = Package.objects.filter(key=key).update(**fields, updated_at=timezone.now())
    if not updated:
        raise PackageNotFound.of(package_id)
