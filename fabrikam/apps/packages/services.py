"""Writes to packages."""

from __future__ import annotations

from typing import Any

from fabrikam.apps.packages.exceptions import PackageNotFound
from fabrikam.apps.packages.models import Package


def upsert_package(package_id: str, fields: dict[str, Any]) -> tuple[Package, bool]:
    """Create or replace package `package_id` (idempotent PUT). Returns (package, created)."""
    package, created = Package.objects.update_or_create(id=package_id, defaults=fields)
    return package, created


def update_package(package_id: str, fields: dict[str, Any]) -> Package:
    package = Package.objects.filter(id=package_id).first()
    if package is None:
        raise PackageNotFound(f"There is no package {package_id}.")
    for name, value in fields.items():
        setattr(package, name, value)
    package.save(update_fields=[*fields, "updated_at"])
    return package
