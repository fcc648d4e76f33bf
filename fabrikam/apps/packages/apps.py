from django.apps import AppConfig


class PackagesConfig(AppConfig):
    name = "fabrikam.apps.packages"
    label = "packages"
    verbose_name = "Packages"
