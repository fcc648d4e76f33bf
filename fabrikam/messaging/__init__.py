"""The message broker: which one a URL names, how Celery talks to it, and the Azure
Service Bus transport."""
