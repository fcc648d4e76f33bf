from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "fabrikam.apps.workflow"
    label = "workflow"
    verbose_name = "Workflow"

    def ready(self) -> None:
        from fabrikam.apps.workflow import metrics, watchdog

        metrics.register()
        watchdog.register()
