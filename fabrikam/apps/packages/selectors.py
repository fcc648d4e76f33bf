"""Reads of packages."""

from __future__ import annotations

from fabrikam.apps.packages.exceptions import PackageNotFound
from fabrikam.apps.packages.models import Package


def get_package(package_id: str) -> Package:
    package = Package.objects.filter(id=package_id).first()
    if package is None:
        raise PackageNotFound(f"There is no package {package_id}.")
    return package
