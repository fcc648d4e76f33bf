from django.apps import AppConfig


class PackagesConfig(AppConfig):
    name = "fabrikam.apps.packages"
    label = "packages"
    verbose_name = "Packages"

    def ready(self) -> None:
        from django.conf import settings

        from fabrikam.apps.common import health
        from fabrikam.roles import Store

        # Its own store: a MongoDB API, its own SQL database, or the default one.
        health.register(Store.PACKAGES_DATABASE, health.database(settings.PACKAGES_DB_ALIAS))
