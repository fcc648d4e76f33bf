from django.apps import AppConfig


class DeliveriesConfig(AppConfig):
    name = "fabrikam.apps.deliveries"
    label = "deliveries"
    verbose_name = "Deliveries"
