"""Writes to packages."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from fabrikam.apps.packages.exceptions import PackageNotFound
from fabrikam.apps.packages.models import Package


def upsert_package(package_id: str, fields: dict[str, Any]) -> tuple[Package, bool]:
    """Create or replace package `package_id` (idempotent PUT). Returns (package, created).

    A replaced package keeps its delivery state unless `fields` names one: a redelivered saga
    message must not undo a later compensation.
    """
    return Package.objects.update_or_create(id=package_id, defaults=fields)


def update_package(package_id: str, fields: dict[str, Any]) -> None:
    """Change some fields of package `package_id` (PATCH) in one write."""
    updated = Package.objects.filter(id=package_id).update(**fields, updated_at=timezone.now())
    if not updated:
        raise PackageNotFound.of(package_id)
