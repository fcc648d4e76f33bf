from django.apps import AppConfig


class DroneSchedulerConfig(AppConfig):
    name = "fabrikam.apps.dronescheduler"
    label = "dronescheduler"
    verbose_name = "Drone scheduler"

    def ready(self) -> None:
        from fabrikam.apps.dronescheduler import metrics

        metrics.register()
