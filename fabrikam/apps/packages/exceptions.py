from __future__ import annotations

from fabrikam.web.problems import Conflict, NotFound


class PackageNotFound(NotFound):
    title = "Package not found"
    slug = "package-not-found"

    @classmethod
    def of(cls, package_id: str) -> PackageNotFound:
        return cls(f"There is no package {package_id}.")


class AmbiguousPackage(Conflict):
    """Admin and internal callers asked for a package id that several owners use."""

    title = "Several owners have a package with this id"
    slug = "ambiguous-package"

    @classmethod
    def of(cls, package_id: str, owners: list[str]) -> AmbiguousPackage:
        return cls(
            f"Packages of several owners have the id {package_id}: "
            f"name one with ?ownerId= ({', '.join(owners)}).",
            owners=owners,
        )
