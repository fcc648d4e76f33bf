"""Plain API throughput of the HTTP server (gunicorn's asyncio worker + fabrikam.server.wsgi_bridge)
against the gthread worker it replaced, measured with wrk in the same run.

    python bench/server_throughput.py [--rounds 3] [--seconds 10] [--connections 16] [--port 18220]

Starts both servers on 127.0.0.1 (GUNICORN_WORKERS=2, GUNICORN_THREADS=4, the `all` role, one
throwaway SQLite database, the embedded Redis unless REDIS_URL is set), stores one delivery, and
runs `wrk` on GET /api/deliveries/{id}/status against each in turn, --rounds times, interleaved so
both see the same load from the rest of the machine. Prints each round's requests per second and
the servers' CPU milliseconds per request (less sensitive to a busy machine), then the medians and
their ratio to the gthread baseline.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.live import manage  # noqa: E402

COMMON = [
    "--workers",
    "2",
    "--timeout",
    "30",
    "--forwarded-allow-ips",
    "*",
    "--config",
    "python:fabrikam.server.gunicorn_hooks",
    "--no-control-socket",
]
SERVERS = {
    "gthread (before)": [
        "fabrikam.wsgi:application",
        "--worker-class",
        "gthread",
        "--threads",
        "4",
    ],
    "asgi + bridge (now)": [
        "fabrikam.asgi:application",
        "--worker-class",
        "fabrikam.server.gunicorn_worker.Worker",
    ],
}


def wait_ready(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server at {base} exited")
        try:
            if requests.get(f"{base}/healthz/live", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)  # polling a child process's readiness
    raise SystemExit(f"{base} not ready after 60 s")


def cpu_seconds(server: subprocess.Popen) -> float:
    parent = psutil.Process(server.pid)
    total = 0.0
    for process in [parent, *parent.children(recursive=True)]:
        times = process.cpu_times()
        total += times.user + times.system
    return total


def run_wrk(url: str, token: str, seconds: float, connections: int) -> tuple[float, int, int]:
    """(requests per second, requests, non-2xx answers)."""
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds:.0f}s",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    count = int(re.search(r"(\d+) requests in", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return rate, count, int(bad.group(1)) if bad else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=18220)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    data_dir = Path(tempfile.mkdtemp(prefix="fabrikam-bench-server-"))
    env = {
        **os.environ,
        "DEBUG": "true",
        "FABRIKAM_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'bench.sqlite3'}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "4",
        "THROTTLE_IP_RATE": "1000000000/minute",
        "THROTTLE_CLIENT_RATE": "1000000000/minute",
        "LOG_LEVEL": "WARNING",  # one log line per request would be most of what is measured
    }
    env.pop("FABRIKAM_ROLE", None)
    redis_server = None
    servers: dict[str, subprocess.Popen] = {}
    try:
        if not env.get("REDIS_URL"):
            from fabrikam.runtime import embedded_redis

            redis_server = embedded_redis.start(data_dir)
            env["REDIS_URL"] = embedded_redis.url_for(data_dir)
        print(f"preparing {data_dir} …", flush=True)
        manage(["migrate", "--noinput", "-v0"], env)
        manage(["migrate", "--database", "packages", "--noinput", "-v0"], env)
        token = manage(["issue_token", "--scope", "internal", "--scope", "admin"], env).strip()
        bases = {}
        for number, (name, argv) in enumerate(SERVERS.items()):
            port = args.port + number
            bases[name] = f"http://127.0.0.1:{port}"
            servers[name] = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", *argv, "--bind", f"127.0.0.1:{port}", *COMMON],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        for name, base in bases.items():
            wait_ready(base, servers[name])
        body = manage(["shell", "-c", BODY], env).strip()
        created = requests.put(
            f"{next(iter(bases.values()))}/api/deliveries/bench-1",
            data=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=10,
        )
        assert created.status_code in (200, 201), created.text
        rates: dict[str, list[float]] = {name: [] for name in SERVERS}
        costs: dict[str, list[float]] = {name: [] for name in SERVERS}
        for round_number in range(1, args.rounds + 1):
            for name, base in bases.items():
                before = cpu_seconds(servers[name])
                rate, count, bad = run_wrk(
                    f"{base}/api/deliveries/bench-1/status", token, args.seconds, args.connections
                )
                cost = (cpu_seconds(servers[name]) - before) / max(count, 1) * 1000
                rates[name].append(rate)
                costs[name].append(cost)
                print(
                    f"round {round_number} {name:22} {rate:8.1f} req/s  {cost:6.2f} CPU ms/req"
                    + (f"  ({bad} not 2xx!)" if bad else ""),
                    flush=True,
                )
        baseline = next(iter(SERVERS))
        print("\nmedians")
        for name in SERVERS:
            rate, cost = statistics.median(rates[name]), statistics.median(costs[name])
            print(
                f"  {name:22} {rate:8.1f} req/s ({rate / statistics.median(rates[baseline]):.2f}x)"
                f"  {cost:6.2f} CPU ms/req ({cost / statistics.median(costs[baseline]):.2f}x)"
            )
    finally:
        for server in servers.values():
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(30)
        if redis_server is not None:
            redis_server.terminate()
            redis_server.wait(10)
        shutil.rmtree(data_dir, ignore_errors=True)


BODY = """
import json
print(json.dumps({
    "owner": {"userId": "owner-1", "accountId": "account-1"},
    "pickup": {"latitude": 47.6097, "longitude": -122.3331},
    "dropoff": {"latitude": 47.6205, "longitude": -122.3493},
    "pickupTime": "2026-12-01T10:00:00Z", "deadline": "2026-12-01T12:00:00Z",
    "expedited": False, "confirmationRequired": "None",
    "droneId": "drone-0001", "packageId": "pkg-1",
}))
"""

if __name__ == "__main__":
    main()
