"""Where a request's CPU goes under gunicorn: the event loop, the Django threads, and the same
request in process, next to the bare Django view.

    python bench/request_cpu.py [--seconds 5] [--rounds 2]

Starts `make run`'s HTTP shape as `make bench` does (bench/throughput.py: one gunicorn with
GUNICORN_WORKERS asyncio workers x GUNICORN_THREADS threads, DEBUG on, throttles raised, an embedded
Redis, SQLite) and the bare view beside it, stores one delivery, and drives with wrk, in turn: the
bare view, a token status read, a public status read and POST /api/deliveryrequests. For each, the
CPU per request of gunicorn's workers split by thread (the event loop, which reads and writes the
connections, and the Django threads the bridge hands requests to), then the same requests through
the WSGI application in this process, one after another (no server, no thread hand-over). What a
request costs under gunicorn beyond its cost in process is the server's share: the loop's HTTP
work, and the Django threads' hand-overs and wake-ups around each blocking round trip.
CPU per request moves with the machine's load (wake-ups cost more on a quiet machine): compare
rows of one run, and read the load average printed with them.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import throughput  # noqa: E402
from bench.support import wrk  # noqa: E402
from bench.support.local_stores import local_stores  # noqa: E402

DELIVERY = {
    "owner": {"userId": "bench", "accountId": "bench"},
    "pickup": {"latitude": 47.6097, "longitude": -122.3331},
    "dropoff": {"latitude": 47.6205, "longitude": -122.3493},
    "pickupTime": "2026-12-01T10:00:00Z",
    "deadline": "2026-12-01T12:00:00Z",
    "expedited": False,
    "confirmationRequired": "None",
    "droneId": "drone-0001",
    "packageId": "pkg-1",
}
STATUS = "/api/deliveries/bench-1/status"
PUBLIC = "/api/deliveries/public/bench-1/status"
POST = "/api/deliveryrequests"


def thread_cpu(server: Any) -> dict[str, float]:
    """CPU seconds so far of the server's workers: their event loops (each worker's main thread)
    and every other thread (the Django threads)."""
    found = {"loop": 0.0, "django": 0.0}
    for worker in psutil.Process(server.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            for thread in worker.threads():
                kind = "loop" if thread.id == worker.pid else "django"
                found[kind] += thread.user_time + thread.system_time
    return found


def served(system: throughput.System, phase: str, seconds: float, token: str, body: Path) -> dict:
    """One wrk phase: rate and CPU milliseconds per request, per kind of thread."""
    url, server = (system.bare_url, system.bare) if phase == "bare" else (system.url, system.http)
    options: dict[str, Any] = {
        "bare": {"path": "/bare"},
        "status (token)": {"path": STATUS, "token": token},
        "status (public)": {"path": PUBLIC},
        "POST": {"path": POST, "token": token, "method": "POST", "body_file": body},
    }[phase]
    load = os.getloadavg()[0]
    before = thread_cpu(server)
    run = wrk.run(url, options.pop("path"), seconds=seconds, **options)
    after = thread_cpu(server)
    count = max(run.requests, 1)
    cpu = {kind: 1000 * (after[kind] - before[kind]) / count for kind in after}
    return {"per_s": run.rate, "statuses": run.statuses, "load": load, **cpu}


def in_process(phase: str, token: str, body: bytes, count: int) -> float:
    """CPU milliseconds per request through the WSGI application called in this process."""
    from fabrikam.wsgi import application

    path, method = {"status (token)": (STATUS, "GET"), "status (public)": (PUBLIC, "GET")}.get(
        phase, (POST, "POST")
    )

    def environ() -> dict[str, Any]:
        made = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_ACCEPT": "application/json",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body if method == "POST" else b""),
            "wsgi.errors": sys.stderr,
            "CONTENT_LENGTH": str(len(body)) if method == "POST" else "0",
        }
        if method == "POST":
            made["CONTENT_TYPE"] = "application/json"
        if phase != "status (public)":
            made["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return made

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        if status[:3] not in ("200", "202"):
            raise SystemExit(f"{phase} in process answered {status}")

    def one() -> None:
        answer = application(environ(), start_response)
        b"".join(answer)
        answer.close()

    for _ in range(100):  # warm-up: first requests load keys and modules
        one()
    started = time.process_time()
    for _ in range(count):
        one()
    return 1000 * (time.process_time() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per wrk phase")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--in-process-requests", type=int, default=1000)
    parser.add_argument(
        "--only", choices=["status", "POST"], help="the bare view and only these requests"
    )
    args = parser.parse_args()
    wrk.require()
    phases = {
        None: ["bare", "status (token)", "status (public)", "POST"],
        "status": ["bare", "status (token)", "status (public)"],
        "POST": ["bare", "POST"],
    }[args.only]
    results: dict[str, list[dict]] = {phase: [] for phase in phases}
    with local_stores() as data_dir:
        import django
        import requests

        system = throughput.System(data_dir, drones=50)
        for name in ("FABRIKAM_ROLE", "LOG_LEVEL", "THROTTLE_CLIENT_RATE", "THROTTLE_IP_RATE"):
            os.environ[name] = system.env[name]  # this process serves the in-process requests
        django.setup()
        token = system.prepare()
        internal = system.manage("issue_token", "--scope", "internal").splitlines()[-1]
        body_file = data_dir / "request.json"
        body_file.write_text(json.dumps(throughput.REQUEST_TEMPLATE))
        os.environ["BENCH_SPREAD_KM"] = str(throughput.AREA_KM * 0.7)
        os.environ["BENCH_CENTER"] = ",".join(map(str, throughput.CENTER))
        body = (
            body_file.read_text()
            .replace("__PICKUP__", "47.6062,-122.3321")
            .replace('"__DROP_LAT__"', "47.6162")
            .replace('"__DROP_LON__"', "-122.3221")
            .encode()
        )
        try:
            system.start_http()
            created = requests.put(
                f"{system.url}/api/deliveries/bench-1",
                json=DELIVERY,
                headers={"Authorization": f"Bearer {internal}"},
                timeout=10,
            )
            created.raise_for_status()
            throughput.say("==> warming up")
            for phase in phases:
                served(system, phase, 1, token, body_file)
            for number in range(1, args.rounds + 1):
                for phase in phases:
                    found = served(system, phase, args.seconds, token, body_file)
                    if phase != "bare":
                        found["in_process"] = in_process(
                            phase, token, body, args.in_process_requests
                        )
                    results[phase].append(found)
                    throughput.say(f"  round {number} {phase}: {found}")
        finally:
            system.close()
    print_table(results)


def print_table(results: dict[str, list[dict]]) -> None:
    def median(phase: str, key: str) -> float:
        return statistics.median(r.get(key, float("nan")) for r in results[phase])

    bare = median("bare", "per_s")
    print(
        "\nmedians, CPU ms per request"
        "\n| | req/s | vs bare | gunicorn | event loop | Django threads | in process | load |"
        "\n|---|---|---|---|---|---|---|---|"
    )
    for phase in results:
        loop, threads = median(phase, "loop"), median(phase, "django")
        inside = f"{median(phase, 'in_process'):.2f}" if phase != "bare" else ""
        print(
            f"| {phase} | {median(phase, 'per_s'):,.0f} | {median(phase, 'per_s') / bare:.2f}x "
            f"| {loop + threads:.2f} | {loop:.2f} | {threads:.2f} | {inside} "
            f"| {median(phase, 'load'):.1f} |"
        )


if __name__ == "__main__":
    main()
