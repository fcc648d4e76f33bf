"""Telemetry configuration is read once, in settings, and a mistake stops the process with the
variable named, before anything runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.live import ROOT

OTEL_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "OTEL_TRACES_EXPORTER",
    "OTEL_METRICS_EXPORTER",
    "OTEL_TRACES_SAMPLER_ARG",
    "LOG_FORMAT",
)
READ = (
    "import json; from fabrikam.settings import production as s; "
    "print(json.dumps([s.OTEL_TRACES_EXPORTER, s.OTEL_METRICS_EXPORTER, s.LOG_FORMAT]))"
)


def settings_with(**variables: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in OTEL_VARIABLES}
    env.update(DJANGO_SETTINGS_MODULE="fabrikam.settings.production", **variables)
    return subprocess.run(
        [sys.executable, "-c", READ], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def read(**variables: str) -> list:
    result = settings_with(**variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_nothing_is_exported_unless_a_destination_is_configured():
    assert read(DEBUG="true") == [["none"], ["none"], "plain"]


def test_an_otlp_endpoint_or_a_connection_string_turns_its_exporter_on():
    assert read(OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318")[:2] == [["otlp"], ["otlp"]]
    both = read(
        OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318",
        APPLICATIONINSIGHTS_CONNECTION_STRING="InstrumentationKey=00000000-0000-0000-0000-0",
    )
    assert both[:2] == [["otlp", "azuremonitor"], ["otlp", "azuremonitor"]]


def test_exporters_can_be_chosen_per_signal():
    exporters = read(
        OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318", OTEL_METRICS_EXPORTER="none"
    )
    assert exporters[:2] == [["otlp"], ["none"]]


def test_logs_are_json_without_debug_and_plain_with_it():
    assert read(DEBUG="false", SECRET_KEY="x" * 50)[2] == "json"
    assert read(DEBUG="true", LOG_FORMAT="JSON")[2] == "json"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT='xml': use json or plain"),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER: unknown exporter zipkin"),
        (
            {"OTEL_METRICS_EXPORTER": "azuremonitor"},
            "OTEL_METRICS_EXPORTER includes azuremonitor but APPLICATIONINSIGHTS_CONNECTION_STRING",
        ),
        ({"OTEL_TRACES_SAMPLER_ARG": "1.5"}, "OTEL_TRACES_SAMPLER_ARG=1.5: a fraction"),
        ({"OTEL_TRACES_SAMPLER_ARG": "half"}, "OTEL_TRACES_SAMPLER_ARG='half' is not a number"),
    ],
)
def test_a_bad_value_stops_the_process_naming_the_variable(variables, message):
    result = settings_with(DEBUG="true", **variables)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
