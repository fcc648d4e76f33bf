"""Each context registers its own gauges and readiness checks when its app is ready; the platform
modules (fabrikam/observability/metrics.py, fabrikam/apps/common/health.py) only hold the
registries."""

from __future__ import annotations

import pytest
from django.apps import apps
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from fabrikam.apps.common import health
from fabrikam.observability import metrics
from fabrikam.roles import Store
from tests.dronescheduler.factories import DroneFactory
from tests.packages.stores import PACKAGES_DATABASES
from tests.support.prometheus import sample


@pytest.fixture
def no_gauges(monkeypatch):
    monkeypatch.setattr(metrics, "GAUGES", {})
    monkeypatch.setattr(metrics, "_exporting", [])


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_gauges")
def test_the_fleet_gauge_is_registered_by_the_drone_scheduler_app():
    DroneFactory.create_batch(3)
    assert "fabrikam_drones" not in metrics.exposition("dronescheduler")[0].decode()

    apps.get_app_config("dronescheduler").ready()

    text = metrics.exposition("dronescheduler")[0].decode()
    assert sample(text, "fabrikam_drones", status="available") == 3
    assert "fabrikam_drones" not in metrics.exposition("workflow")[0].decode()  # no drone DB


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_gauges")
def test_a_gauge_registered_after_telemetry_was_set_up_is_exported_too():
    """gunicorn's workers set telemetry up before they load Django and its apps."""
    DroneFactory.create_batch(2)
    reader = InMemoryMetricReader()
    metrics.register_observable_gauges("dronescheduler", MeterProvider(metric_readers=[reader]))

    apps.get_app_config("dronescheduler").ready()

    exported = {
        metric.name: {p.attributes["status"]: p.value for p in metric.data.data_points}
        for resource in reader.get_metrics_data().resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    assert exported["fabrikam.drones"]["available"] == 2


@pytest.mark.django_db(databases=PACKAGES_DATABASES)
def test_the_packages_store_check_is_registered_by_the_packages_app(monkeypatch):
    others = {s: c for s, c in health.CHECKS.items() if s is not Store.PACKAGES_DATABASE}
    monkeypatch.setattr(health, "CHECKS", others)  # as before the packages app was ready

    failing = health.failing_stores("package")
    assert failing == {
        "packages_database": "LookupError: no readiness check is registered for packages_database"
    }

    apps.get_app_config("packages").ready()

    assert health.failing_stores("package") == {}
