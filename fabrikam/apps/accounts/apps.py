from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Businesses, their API clients, and who may call what: bearer tokens, scopes, throttles."""

    name = "fabrikam.apps.accounts"
    label = "accounts"
    verbose_name = "Business accounts"

    def ready(self) -> None:
        from fabrikam.apps.accounts import checks, schema, signals  # noqa: F401 - registers them
