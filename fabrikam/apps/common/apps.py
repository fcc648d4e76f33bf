from django.apps import AppConfig
from django.urls import register_converter


class CommonConfig(AppConfig):
    """Cross-cutting pieces every role shares: health probes and the process commands."""

    name = "fabrikam.apps.common"
    label = "common"

    def ready(self) -> None:
        from fabrikam.apps.common.converters import IdConverter

        register_converter(IdConverter, "id")
