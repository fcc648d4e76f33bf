from django.apps import AppConfig


class IngestionConfig(AppConfig):
    name = "fabrikam.apps.ingestion"
    label = "ingestion"
    verbose_name = "Ingestion"
