"""Running wrk with bench/lua/load.lua and reading what it reports (see the script's header)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

SCRIPT = Path(__file__).resolve().parents[1] / "lua" / "load.lua"


@dataclass
class WrkRun:
    requests: int
    seconds: float
    latency_ms: dict[str, float]
    statuses: dict[str, int]
    errors: dict[str, int]
    per_second: list[tuple[int, int]]  # (unix second, answers)
    cpu_share: float  # of the whole machine (all cores), spent in wrk itself
    started_at: float = field(default=0.0)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
            "per_s": round(self.rate, 1),
            "latency_ms": self.latency_ms,
            "statuses": self.statuses,
            "errors": self.errors,
            "load_generator_cpu_share": round(self.cpu_share, 3),
        }


def require() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (the bench's load generator)")
    return found


def run(
    url: str,
    path: str,
    *,
    seconds: float,
    connections: int = 8,
    method: str = "GET",
    token: str = "",
    body_file: Path | None = None,
    delay_ms: float = 0,
    max_requests: int = 0,
    ids_file: Path | None = None,
    until: Callable[[], bool] | None = None,
) -> WrkRun:
    """`until`: polled while wrk runs; once true, wrk is interrupted (it then reports what it
    did so far). A thread that reached `max_requests` stops sending but wrk waits out -d."""
    env = {
        **os.environ,
        "BENCH_METHOD": method,
        "BENCH_PATH": path,
        "BENCH_TOKEN": token,
        "BENCH_BODY_FILE": str(body_file or ""),
        "BENCH_DELAY_MS": str(int(delay_ms)),
        "BENCH_MAX_REQUESTS": str(max_requests),
        "BENCH_IDS_FILE": str(ids_file or ""),
    }
    command = [
        require(),
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(SCRIPT),
        url,
    ]
    started = time.time()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    watched = psutil.Process(child.pid)
    cpu = 0.0
    while child.poll() is None:
        if until is not None and until():
            child.send_signal(signal.SIGINT)
            until = None
        try:
            times = watched.cpu_times()
            cpu = times.user + times.system
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)  # sampling the load generator's CPU while it runs
    output = child.stdout.read() if child.stdout else ""
    wall = time.time() - started
    line = next((ln for ln in output.splitlines() if ln.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result (exit {child.returncode}):\n{output}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    latency = {k: round(v / 1000, 2) for k, v in data["latency_us"].items()}
    per_second = sorted((int(k), v) for k, v in data["per_second"].items())
    return WrkRun(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        latency_ms=latency,
        statuses=data["statuses"],
        errors=data["errors"],
        per_second=per_second,
        cpu_share=cpu / wall / (psutil.cpu_count() or 1),
        started_at=started,
    )
