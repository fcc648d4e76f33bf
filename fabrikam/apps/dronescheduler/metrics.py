"""The fleet's gauge, registered with fabrikam/observability/metrics.py when the app is ready: every
role that has the drone database (fabrikam/roles.py) shows it at /metrics and exports it over
OTel."""

from __future__ import annotations

from django.db import close_old_connections

from fabrikam.apps.dronescheduler import selectors
from fabrikam.observability import metrics
from fabrikam.roles import Store


def drones_by_status() -> dict[str, int]:
    try:
        return selectors.drones_by_status()
    finally:
        close_old_connections()  # read from a scrape or an export thread, outside any request


def register() -> None:
    metrics.register_gauge(
        metrics.Gauge(
            "drones", "status", "Drones in the fleet by status.", drones_by_status, Store.DATABASE
        )
    )
