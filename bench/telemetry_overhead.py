"""What observability costs a request: the same in-process requests without and with tracing
(Django, redis, requests instrumented; spans batched to an exporter that drops them), and a log
line formatted as JSON against plain. Prints ratios against the baseline measured in this run.

    .venv/bin/python bench/telemetry_overhead.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrikam.settings")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("FABRIKAM_DATA_DIR", tempfile.mkdtemp(prefix="fabrikam-bench-"))
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:1/0")  # never reached: 400 before any store

import django

django.setup()

from django.test import Client  # noqa: E402
from opentelemetry.sdk.trace.export import (  # noqa: E402
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

from fabrikam.observability import telemetry  # noqa: E402
from fabrikam.observability.logs import JsonFormatter, PlainFormatter  # noqa: E402
from tests.support import auth  # noqa: E402


class Dropped(SpanExporter):
    def export(self, spans: object) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def per_call(run: Callable[[], None], count: int, rounds: int = 5) -> float:
    """Median seconds per call over `rounds` rounds of `count` calls."""
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(count):
            run()
        timings.append((time.perf_counter() - started) / count)
    return statistics.median(timings)


def requests_per_call(count: int) -> float:
    # New each time: it reads MIDDLEWARE, which instrumenting changes. The internal+admin token
    # needs no store (no client lookup, not throttled), so the 400 still reaches no store.
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {auth.token()}")

    def post() -> None:
        response = client.post("/api/deliveryrequests", {}, content_type="application/json")
        assert response.status_code == 400

    post()  # warm up
    return per_call(post, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    sink = logging.StreamHandler(io.StringIO())
    logging.getLogger().handlers = [sink]

    print(f"{args.requests} invalid POSTs /api/deliveryrequests (400) per round, 5 rounds …")
    before = requests_per_call(args.requests)
    tracer_provider, meter_provider = telemetry.build_providers(
        "ingestion", span_processors=(BatchSpanProcessor(Dropped()),)
    )
    telemetry.instrument(tracer_provider, meter_provider)
    try:
        traced = requests_per_call(args.requests)
    finally:
        telemetry.uninstrument()
        tracer_provider.shutdown()
    after = requests_per_call(args.requests)  # the baseline again: warm-up and drift show here
    baseline = (before + after) / 2
    drift = f"(before {before * 1e6:.1f}, after {after * 1e6:.1f})"
    print(f"  request, no tracing      {baseline * 1e6:8.1f} µs   1.00x  {drift}")
    print(f"  request, traced          {traced * 1e6:8.1f} µs   {traced / baseline:.2f}x")

    record = logging.LogRecord(
        "fabrikam.requests", logging.INFO, __file__, 1, "GET %s", ("/x",), None
    )
    record.http_status = 200
    lines = 50_000
    plain = per_call(lambda: PlainFormatter().format(record), lines)
    as_json = per_call(lambda: JsonFormatter().format(record), lines)
    print(f"{lines} log lines per round, 5 rounds …")
    print(f"  log line, plain          {plain * 1e6:8.2f} µs   1.00x")
    print(f"  log line, JSON           {as_json * 1e6:8.2f} µs   {as_json / plain:.2f}x")


if __name__ == "__main__":
    main()
