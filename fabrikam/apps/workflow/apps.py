from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "fabrikam.apps.workflow"
    label = "workflow"
    verbose_name = "Workflow"
