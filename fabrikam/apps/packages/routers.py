"""Routes the packages app to the `packages` database alias, and everything else to `default`.

When no dedicated packages database is configured the alias is the default DB, and the app is
routed to `default` directly.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

APP = "packages"


class PackagesRouter:
    def db_for_read(self, model: type, **hints: Any) -> str | None:
        return settings.PACKAGES_DB_ALIAS if model._meta.app_label == APP else None

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        return settings.PACKAGES_DB_ALIAS if model._meta.app_label == APP else None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        if settings.PACKAGES_SHARES_DEFAULT:
            # One physical database: migrate everything through `default` only.
            return db == "default"
        return (db == settings.PACKAGES_DB_ALIAS) == (app_label == APP)
