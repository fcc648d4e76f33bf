from django.apps import AppConfig


class DroneSchedulerConfig(AppConfig):
    name = "fabrikam.apps.dronescheduler"
    label = "dronescheduler"
    verbose_name = "Drone scheduler"
