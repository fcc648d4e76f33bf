"""OpenTelemetry for every role, set up once per process by `configure(role)`.

Where it is called: each gunicorn worker (`post_fork` in fabrikam/server/gunicorn_hooks.py), each
Celery worker process (`worker_process_init`) and beat (`beat_init`), both in fabrikam/celery.py.
Not in the gunicorn master or the Celery main process: they serve no requests and run no tasks, and
the SDK's export threads do not survive a fork.

- Resource: `service.name` = fabrikam-<role>, `service.version`, `service.instance.id` (pod or
  host name and pid: several processes export from one pod), and the pod, namespace and node that
  the Kubernetes downward API gives (K8S_POD_NAME, K8S_POD_UID, K8S_NAMESPACE_NAME, K8S_NODE_NAME).
- Traces are always created (so log lines carry trace ids and `traceparent` travels to the queue
  and the other services); they are exported only where OTEL_TRACES_EXPORTER says, by default to
  the OTLP endpoint or Application Insights that is configured, else nowhere.
- Sampling: parent-based, ratio OTEL_TRACES_SAMPLER_ARG for new traces. A client call that starts
  a trace of its own (the worker polling Redis, a readiness check pinging a store) is not sampled:
  it belongs to no request or task and would only bury the traces that do.
- Instrumented: Django, Celery (publish and run, context in the message headers), redis, pymongo
  (when installed), psycopg and requests.
"""

from __future__ import annotations

import os
import socket
from importlib.util import find_spec
from typing import Any

from opentelemetry import trace

EXPORTERS = ("otlp", "azuremonitor", "console", "none")
# Probes and scrapes are not traced: every pod answers them every few seconds.
UNTRACED_URLS = r"/healthz/,/metrics$"
PROBE_MIDDLEWARE = "fabrikam.apps.common.middleware.ProbeMiddleware"

_state: dict[str, Any] = {"pid": None, "service": None, "providers": None}


def service_name() -> str:
    """This process's service name: fabrikam-<role>."""
    if _state["service"]:
        return _state["service"]
    try:
        from django.conf import settings

        return f"fabrikam-{settings.FABRIKAM_ROLE}"
    except Exception:  # settings not loadable (yet): still name the service
        return "fabrikam"


def resource(role: str) -> Any:
    from django.conf import settings
    from opentelemetry.sdk.resources import Resource

    host = settings.K8S_POD_NAME or socket.gethostname()
    attributes = {
        "service.name": f"fabrikam-{role}",
        "service.version": settings.FABRIKAM_VERSION,
        "service.instance.id": f"{host}-{os.getpid()}",
        "process.pid": os.getpid(),
        "k8s.pod.name": settings.K8S_POD_NAME,
        "k8s.pod.uid": settings.K8S_POD_UID,
        "k8s.namespace.name": settings.K8S_NAMESPACE_NAME,
        "k8s.node.name": settings.K8S_NODE_NAME,
    }
    # Resource.create also merges OTEL_RESOURCE_ATTRIBUTES (e.g. deployment.environment=prod).
    return Resource.create({key: value for key, value in attributes.items() if value})


def sampler(ratio: float) -> Any:
    from opentelemetry.sdk.trace.sampling import (
        Decision,
        ParentBased,
        Sampler,
        SamplingResult,
        TraceIdRatioBased,
    )

    class UntracedBackgroundCalls(Sampler):
        """Root sampler: a ratio of new traces, none started by a client call."""

        def __init__(self) -> None:
            self.ratio = TraceIdRatioBased(ratio)

        def should_sample(
            self,
            parent_context: Any,
            trace_id: int,
            name: str,
            kind: trace.SpanKind | None = None,
            attributes: Any = None,
            links: Any = None,
            trace_state: Any = None,
        ) -> SamplingResult:
            if kind is trace.SpanKind.CLIENT:
                return SamplingResult(Decision.DROP)
            return self.ratio.should_sample(
                parent_context, trace_id, name, kind, attributes, links, trace_state
            )

        def get_description(self) -> str:
            return f"UntracedBackgroundCalls{{{self.ratio.get_description()}}}"

    return ParentBased(root=UntracedBackgroundCalls())


def _span_exporter(name: str) -> Any:
    from django.conf import settings

    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.OTEL_EXPORTER_OTLP_ENDPOINT
        return OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces" if endpoint else None)
    if name == "azuremonitor":
        from azure.monitor.opentelemetry.exporter import AzureMonitorTraceExporter

        return AzureMonitorTraceExporter(
            connection_string=settings.APPLICATIONINSIGHTS_CONNECTION_STRING
        )
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter(service_name=service_name())
    return None


def _metric_exporter(name: str) -> Any:
    from django.conf import settings

    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        endpoint = settings.OTEL_EXPORTER_OTLP_ENDPOINT
        return OTLPMetricExporter(
            endpoint=f"{endpoint.rstrip('/')}/v1/metrics" if endpoint else None
        )
    if name == "azuremonitor":
        from azure.monitor.opentelemetry.exporter import AzureMonitorMetricExporter

        return AzureMonitorMetricExporter(
            connection_string=settings.APPLICATIONINSIGHTS_CONNECTION_STRING
        )
    if name == "console":
        from opentelemetry.sdk.metrics.export import ConsoleMetricExporter

        return ConsoleMetricExporter()
    return None


def build_providers(role: str, span_processors: tuple[Any, ...] = ()) -> tuple[Any, Any]:
    """A TracerProvider and MeterProvider for `role` with the configured exporters (plus any
    `span_processors`, e.g. a test's in-memory exporter). Sets no globals."""
    from django.conf import settings
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from fabrikam.observability import metrics

    res = resource(role)
    tracer_provider = TracerProvider(
        resource=res, sampler=sampler(settings.OTEL_TRACES_SAMPLER_ARG)
    )
    for name in settings.OTEL_TRACES_EXPORTER:
        exporter = _span_exporter(name)
        if exporter is not None:
            tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
    for processor in span_processors:
        tracer_provider.add_span_processor(processor)
    readers = [
        PeriodicExportingMetricReader(exporter)
        for exporter in map(_metric_exporter, settings.OTEL_METRICS_EXPORTER)
        if exporter is not None
    ]
    meter_provider = MeterProvider(resource=res, metric_readers=readers)
    if readers:
        metrics.register_observable_gauges(role, meter_provider)
    return tracer_provider, meter_provider


def _instrumentors() -> dict[str, Any]:
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    found = {
        "django": DjangoInstrumentor(),
        "celery": CeleryInstrumentor(),
        "redis": RedisInstrumentor(),
        "psycopg": PsycopgInstrumentor(),
        "requests": RequestsInstrumentor(),
    }
    if find_spec("pymongo") is not None:  # with the MongoDB-API packages store
        from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

        found["pymongo"] = PymongoInstrumentor()
    return found


def instrument(tracer_provider: Any = None, meter_provider: Any = None) -> None:
    """Instrument the libraries, process-wide (each instrumentor is a singleton)."""
    from django.conf import settings

    providers = {"tracer_provider": tracer_provider, "meter_provider": meter_provider}
    options: dict[str, dict[str, Any]] = {
        # After the probes: the kubelet calls them by pod IP, a Host the tracing middleware
        # would already refuse (it reads the request's absolute URL).
        "django": {
            "excluded_urls": UNTRACED_URLS,
            "middleware_position": settings.MIDDLEWARE.index(PROBE_MIDDLEWARE) + 1,
        },
        "psycopg": {"enable_commenter": False},
    }
    for name, instrumentor in _instrumentors().items():
        instrumentor.instrument(**providers, **options.get(name, {}))


def uninstrument() -> None:
    for instrumentor in _instrumentors().values():
        instrumentor.uninstrument()


def configure(role: str) -> bool:
    """Set up telemetry for this process as `role`, once. False when OTEL_SDK_DISABLED."""
    from django.conf import settings

    _state["service"] = f"fabrikam-{role}"
    if settings.OTEL_SDK_DISABLED or _state["pid"] == os.getpid():
        return False
    from opentelemetry import metrics as otel_metrics

    tracer_provider, meter_provider = build_providers(role)
    trace.set_tracer_provider(tracer_provider)
    otel_metrics.set_meter_provider(meter_provider)
    instrument()
    _state.update(pid=os.getpid(), providers=(tracer_provider, meter_provider))
    return True


def configured() -> bool:
    """Whether this process traces (and instruments) its requests: `configure` set it up here."""
    return _state["pid"] == os.getpid()


def flush(timeout_millis: int = 5000) -> None:
    """Send what is buffered (a Celery worker process about to exit)."""
    if _state["providers"] is None or _state["pid"] != os.getpid():
        return
    tracer_provider, meter_provider = _state["providers"]
    tracer_provider.force_flush(timeout_millis)
    meter_provider.force_flush(timeout_millis)
