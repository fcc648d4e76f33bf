from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Cross-cutting pieces every role shares: health probes and the process commands."""

    name = "fabrikam.apps.common"
    label = "common"
