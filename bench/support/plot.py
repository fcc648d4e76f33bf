"""The run's picture: throughput per second of each wrk phase and of end-to-end completions, and the
202 → scheduled latency of each delivery of the half-rate run, over time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render straight to PNG
import matplotlib.pyplot as plt


def _per_second(points: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    if not points:
        return [], []
    first = points[0][0]
    # wrk's first and last seconds are partial: leave them out
    inner = points[1:-1] or points
    return [t - first for t, _ in inner], [n for _, n in inner]


def _completions(times: list[float]) -> tuple[list[int], list[int]]:
    counts: dict[int, int] = {}
    for t in times:
        counts[int(t)] = counts.get(int(t), 0) + 1
    seconds = list(range(int(max(times, default=0)) + 1))
    return seconds, [counts.get(s, 0) for s in seconds]


def plot(series: dict[str, Any], results: dict[str, Any], path: Path) -> None:
    figure, (rates, latency) = plt.subplots(2, 1, figsize=(10, 7.5), constrained_layout=True)
    for name, label in (
        ("baseline", "bare Django view (req/s)"),
        ("ingestion", "POST /api/deliveryrequests, saturated (req/s)"),
        ("status", "GET status with token (req/s)"),
    ):
        rates.plot(*_per_second(series.get(name, [])), marker=".", label=label)
    rates.plot(
        *_completions(series.get("completions", [])),
        marker=".",
        label="deliveries completed end to end (/s, burst)",
    )
    rates.set_xlabel("seconds since the phase started")
    rates.set_ylabel("per second")
    rates.set_yscale("log")
    rates.grid(True, which="both", alpha=0.3)
    rates.legend(fontsize=8)
    rates.set_title(
        f"Throughput — {results['when']} ({results.get('git', '')}), {results['drones']:,} drones, "
        f"load avg {results['load_average_at_start'][0]:.1f}"
    )
    points = series.get("scheduled_latency", [])
    if points:
        latency.scatter([t for t, _ in points], [ms for _, ms in points], s=6, alpha=0.6)
    half = results.get("end_to_end", {}).get("half_rate", {})
    latency.set_title(
        f"202 → scheduled latency at half the end-to-end rate ({half.get('target_per_s', '?')}/s): "
        f"p50 {half.get('p50_ms_202_to_scheduled', '?')} ms, "
        f"p99 {half.get('p99_ms_202_to_scheduled', '?')} ms"
    )
    latency.set_xlabel("seconds since the first request")
    latency.set_ylabel("ms")
    latency.grid(True, alpha=0.3)
    figure.savefig(path, dpi=90)
    plt.close(figure)
