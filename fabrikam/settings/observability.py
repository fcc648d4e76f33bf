"""Observability (issue 9): logs, traces, metrics and health probes. See README "Observability"."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from fabrikam.observability import logs, telemetry
from fabrikam.settings import env
from fabrikam.settings.runtime import DEBUG

LOG_LEVEL = env.string("LOG_LEVEL", "INFO")
LOG_FORMAT = env.string("LOG_FORMAT", "plain" if DEBUG else "json").lower()
if LOG_FORMAT not in logs.FORMATS:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use json or plain")
LOGGING = logs.logging_config(LOG_FORMAT, LOG_LEVEL)

HEALTH_CHECK_TIMEOUT = env.number("HEALTH_CHECK_TIMEOUT", 2.0)
# The workflow worker and beat answer /healthz/* on this port when set (by `serve --port`).
PROBE_PORT = env.integer("PROBE_PORT", 0)

OTEL_SDK_DISABLED = env.boolean("OTEL_SDK_DISABLED", False)
OTEL_EXPORTER_OTLP_ENDPOINT = env.string("OTEL_EXPORTER_OTLP_ENDPOINT")
APPLICATIONINSIGHTS_CONNECTION_STRING = env.string("APPLICATIONINSIGHTS_CONNECTION_STRING")
_default_exporters = [
    name
    for name, configured in (
        ("otlp", OTEL_EXPORTER_OTLP_ENDPOINT),
        ("azuremonitor", APPLICATIONINSIGHTS_CONNECTION_STRING),
    )
    if configured
] or ["none"]
OTEL_TRACES_EXPORTER = env.strings("OTEL_TRACES_EXPORTER", _default_exporters)
OTEL_METRICS_EXPORTER = env.strings("OTEL_METRICS_EXPORTER", _default_exporters)
for _variable, _names in (
    ("OTEL_TRACES_EXPORTER", OTEL_TRACES_EXPORTER),
    ("OTEL_METRICS_EXPORTER", OTEL_METRICS_EXPORTER),
):
    if unknown := set(_names) - set(telemetry.EXPORTERS):
        raise ImproperlyConfigured(
            f"{_variable}: unknown exporter {', '.join(sorted(unknown))}; "
            f"use any of {', '.join(telemetry.EXPORTERS)}"
        )
    if "azuremonitor" in _names and not APPLICATIONINSIGHTS_CONNECTION_STRING:
        raise ImproperlyConfigured(
            f"{_variable} includes azuremonitor but APPLICATIONINSIGHTS_CONNECTION_STRING is unset"
        )
OTEL_TRACES_SAMPLER_ARG = env.number("OTEL_TRACES_SAMPLER_ARG", 1.0)
if not 0.0 <= OTEL_TRACES_SAMPLER_ARG <= 1.0:
    raise ImproperlyConfigured(
        f"OTEL_TRACES_SAMPLER_ARG={OTEL_TRACES_SAMPLER_ARG}: a fraction of traces, 0 to 1"
    )
# Kubernetes downward API (the chart sets these from fieldRef), as resource attributes.
K8S_POD_NAME = env.string("K8S_POD_NAME")
K8S_POD_UID = env.string("K8S_POD_UID")
K8S_NAMESPACE_NAME = env.string("K8S_NAMESPACE_NAME")
K8S_NODE_NAME = env.string("K8S_NODE_NAME")
# Prometheus multi-process mode: every process of a pod writes its samples here and /metrics adds
# them up. `serve`/`dev` empty it (default: DATA_DIR/metrics/<role>-<port>) and export it to their
# children; prometheus_client reads the variable itself.
PROMETHEUS_MULTIPROC_DIR = env.string("PROMETHEUS_MULTIPROC_DIR")
