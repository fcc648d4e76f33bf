from __future__ import annotations

from fabrikam.problems import NotFound


class PackageNotFound(NotFound):
    title = "Package not found"
    slug = "package-not-found"

    @classmethod
    def of(cls, package_id: str) -> PackageNotFound:
        return cls(f"There is no package {package_id}.")
