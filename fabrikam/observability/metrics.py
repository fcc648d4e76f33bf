"""The metrics operators watch, recorded twice: to OpenTelemetry (pushed over OTLP / to Azure
Monitor when an exporter is configured) and to Prometheus (scraped at /metrics).

Why both: OTLP pushes each process's own numbers, labelled by `service.instance.id`, and the backend
adds them up. A scrape reaches one process only, and gunicorn and the Celery worker run several per
pod, so /metrics uses prometheus_client's multi-process mode: each process writes its samples to a
file in PROMETHEUS_MULTIPROC_DIR and the process that answers the scrape sums them all. The OTel
Prometheus exporter would instead answer with whichever worker the scrape landed on.

Gauges that describe shared state (queue depth, drones by status) are read when asked: at scrape
time for Prometheus, at export time for OTel. Each is registered (`register_gauge`) by the context
that owns what it counts, from its app's ready(); this module imports no context.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from kombu.exceptions import KombuError
from opentelemetry import metrics as otel
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from redis.exceptions import RedisError

from fabrikam import roles
from fabrikam.roles import Store

logger = logging.getLogger(__name__)
# A store that cannot answer leaves its gauge out of this scrape; any other error is a bug and is
# raised, so that a test (and an operator) sees it instead of a gauge that silently disappears.
STORE_ERRORS = (OSError, TimeoutError, KombuError, RedisError, DatabaseError)
_meter = otel.get_meter("fabrikam")

HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
OPERATIONS = {"delivery", "cancel", "reschedule"}
OUTCOMES = {
    "completed",
    "compensated",
    "cancelled",
    "refused",
    "dead-lettered",
    "retried",
    "failed",
}
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_request_duration = Histogram(
    "fabrikam_http_request_duration_seconds",
    "HTTP requests served, by role, method, route and status: rate, latency and errors.",
    ["role", "method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
_request_duration_otel = _meter.create_histogram(
    "fabrikam.http.server.request.duration",
    unit="s",
    description="HTTP requests served, by role, method, route and status.",
    explicit_bucket_boundaries_advisory=list(LATENCY_BUCKETS),
)
_saga_outcomes = Counter(
    "fabrikam_saga_outcomes",
    "Delivery-request messages handled by the workflow, by operation and outcome.",
    ["operation", "outcome"],
)
_saga_outcomes_otel = _meter.create_counter(
    "fabrikam.saga.outcomes",
    description="Delivery-request messages handled by the workflow, by operation and outcome.",
)


def record_request(role: str, method: str, route: str, status: int, seconds: float) -> None:
    labels = {
        "role": role,
        "method": method if method in HTTP_METHODS else "OTHER",
        "route": route or "(unmatched)",
        "status": str(status),
    }
    _request_duration.labels(**labels).observe(seconds)
    _request_duration_otel.record(seconds, labels)


def record_saga_outcome(operation: Any, outcome: Any) -> None:
    labels = {
        "operation": operation if operation in OPERATIONS else "unknown",
        "outcome": outcome if outcome in OUTCOMES else "other",
    }
    _saga_outcomes.labels(**labels).inc()
    _saga_outcomes_otel.add(1, labels)


# --- gauges read on demand, registered by the contexts that own what they count ---
@dataclass(frozen=True)
class Gauge:
    name: str  # fabrikam.<name> in OTel, fabrikam_<name with _ for .> in Prometheus
    label: str  # the one label of its samples: reader() maps its values to counts
    description: str
    reader: Callable[[], dict[str, int]]
    store: Store  # what it reads: shown by the roles that have that store (fabrikam/roles.py)


GAUGES: dict[str, Gauge] = {}
# (role, MeterProvider) this process exports to: a gauge registered after telemetry was set up
# (a gunicorn worker configures it before it loads Django and the apps) still reaches it.
_exporting: list[tuple[str, Any]] = []


def register_gauge(gauge: Gauge) -> None:
    """Called from the owning app's ready()."""
    GAUGES[gauge.name] = gauge
    for role, meter_provider in _exporting:
        if gauge.store in roles.stores(role):
            _observe(meter_provider, gauge.name)


def _gauges(role: str) -> list[Gauge]:
    """The gauges this role can read: only the stores it owns (see fabrikam/roles.py)."""
    stores = roles.stores(role)
    return [gauge for gauge in GAUGES.values() if gauge.store in stores]


def _read(name: str, reader: Callable[[], dict[str, int]]) -> dict[str, int]:
    from django.apps import apps

    if not apps.ready:  # an OTel export before this gunicorn worker has loaded Django
        return {}
    try:
        return reader()
    except STORE_ERRORS as exc:
        logger.warning("metric fabrikam.%s not read: %s: %s", name, type(exc).__name__, exc)
        return {}


class _LiveGauges:
    def __init__(self, role: str) -> None:
        self.role = role

    def describe(self) -> list[Metric]:
        return []  # so that registering does not read the stores once more

    def collect(self) -> Iterator[Metric]:
        for gauge in _gauges(self.role):
            prometheus_name = f"fabrikam_{gauge.name.replace('.', '_')}"
            family = GaugeMetricFamily(prometheus_name, gauge.description, labels=[gauge.label])
            for key, value in sorted(_read(gauge.name, gauge.reader).items()):
                family.add_metric([key], value)
            yield family


class _ThisProcess:
    """prometheus_client's default registry, when samples are not shared through files."""

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def exposition(role: str) -> tuple[bytes, str]:
    """The /metrics body (Prometheus text format) and its content type."""
    registry = CollectorRegistry()
    if settings.PROMETHEUS_MULTIPROC_DIR:
        MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    else:
        registry.register(_ThisProcess())
    registry.register(_LiveGauges(role))
    return generate_latest(registry), CONTENT_TYPE_LATEST


def register_observable_gauges(role: str, meter_provider: Any) -> None:
    """The same gauges for OTel, read on each export (only when a metrics exporter is set): those
    registered so far, and any registered later."""
    _exporting.append((role, meter_provider))
    for gauge in _gauges(role):
        _observe(meter_provider, gauge.name)


def _observe(meter_provider: Any, name: str) -> None:
    gauge = GAUGES[name]

    def observe(options: Any) -> list[otel.Observation]:
        current = GAUGES[name]  # looked up on each export, as the scrape does
        return [
            otel.Observation(value, {current.label: key})
            for key, value in _read(name, current.reader).items()
        ]

    meter = meter_provider.get_meter("fabrikam")
    meter.create_observable_gauge(f"fabrikam.{name}", [observe], description=gauge.description)


def prepare_multiprocess_dir(name: str) -> Path | None:
    """The directory where this process tree's processes share their samples, emptied of an
    earlier run's files (they would add old counts in): PROMETHEUS_MULTIPROC_DIR, else
    DATA_DIR/metrics/<name>. None, with a warning, when it cannot be made."""
    path = (
        Path(settings.PROMETHEUS_MULTIPROC_DIR)
        if settings.PROMETHEUS_MULTIPROC_DIR
        else settings.DATA_DIR / "metrics" / name
    )
    try:
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
    except OSError as exc:
        logger.warning(
            "metrics from several processes cannot be combined (%s: %s); /metrics will show only "
            "the process that answers. Set PROMETHEUS_MULTIPROC_DIR to a writable directory.",
            path,
            exc,
        )
        return None
    return path
