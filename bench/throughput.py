"""`make bench`: the whole system's throughput against a bare Django baseline, in one run.

    python bench/throughput.py [--drones 10000] [--seconds 10] [--deliveries 1500] [--quick]

Starts `make run`'s shape on free loopback ports (one gunicorn with GUNICORN_WORKERS asyncio
workers x GUNICORN_THREADS threads serving every HTTP role, the workflow worker as `make run`
starts it, an embedded Redis, SQLite; throttles raised, tracing off) next to a bare Django JSON
view served by the same gunicorn shape, and measures with wrk (bench/lua/load.lua):

1. baseline: the bare view, saturated;
2. ingestion: POST /api/deliveryrequests saturated, then at half that rate (p50/p99);
   the workflow worker is stopped meanwhile and the queue purged after, so this is ingestion alone;
3. end to end: the worker started, a burst of --deliveries requests; deliveries completed per
   second from the first request to the last completion, then an open-loop run at half that rate
   for the 202 → scheduled latency;
4. status reads: GET /api/deliveries/{id}/status (token) and the public status;
5. drone assignment latency with --drones drones on SQLite and on PostgreSQL
   (bench/assignment_latency.py; PostgreSQL from BENCH_POSTGRES_URL or DATABASE_URL, else skipped).

Prints the table and the ratios, writes bench/results/<UTC time>.json and .png (throughput and
latency over time) and copies them to bench/results/latest.*. CPU seconds per process kind and the
load average are recorded per phase: the machine may be shared, so read ratios of one run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import wrk  # noqa: E402
from bench.support.local_stores import local_stores, make_run_shape  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CENTER = (47.6062, -122.3321)
AREA_KM = 20.0
FINAL = {"completed", "compensated", "cancelled"}  # saga statuses (workflow.services.Status)
REQUEST_TEMPLATE = {
    "ownerId": "bench",
    "pickupLocation": "__PICKUP__",
    "dropOffLocation": {"latitude": "__DROP_LAT__", "longitude": "__DROP_LON__"},
    "pickupTime": "2026-12-01T10:00:00Z",
    "deadline": "2026-12-01T12:00:00Z",
    "expedited": False,
    "confirmationRequired": "None",
    "packageInfo": {"packageId": "bench-pkg", "size": "Small", "weight": 1.5, "tag": "bench"},
}


def say(text: str) -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def cpu_seconds(process: subprocess.Popen | None) -> float:
    """User + system CPU of a process and its children so far."""
    if process is None or process.poll() is not None:
        return 0.0
    total = 0.0
    with contextlib.suppress(psutil.NoSuchProcess):
        root = psutil.Process(process.pid)
        for proc in (root, *root.children(recursive=True)):
            with contextlib.suppress(psutil.NoSuchProcess):
                times = proc.cpu_times()
                total += times.user + times.system
    return total


def worker_cpu_seconds(process: subprocess.Popen | None) -> dict[int, float]:
    """User + system CPU of each gunicorn worker (the arbiter's children) so far."""
    found: dict[int, float] = {}
    if process is None or process.poll() is not None:
        return found
    with contextlib.suppress(psutil.NoSuchProcess):
        for proc in psutil.Process(process.pid).children():
            with contextlib.suppress(psutil.NoSuchProcess):
                times = proc.cpu_times()
                found[proc.pid] = times.user + times.system
    return found


# A saturated phase whose busiest gunicorn worker did more than this share of its server's work
# ran on one core: its rate says nothing about the code (bench/README.md, round seven).
ONE_CORE_SHARE = 0.8


def ran_on_one_core(phase: dict[str, Any]) -> bool:
    """Whether a saturated phase's busiest gunicorn worker did more than ONE_CORE_SHARE of it."""
    return phase["busiest_worker_share"] > ONE_CORE_SHARE


class System:
    """The processes under test, started like `manage.py dev` does, and the bare baseline."""

    def __init__(self, data_dir: Path, drones: int) -> None:
        self.data_dir = data_dir
        self.port, self.bare_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.bare_url = f"http://127.0.0.1:{self.bare_port}"
        self.drones = drones
        self.http: subprocess.Popen | None = None
        self.bare: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []  # one, or WORKFLOW_CONCURRENCY solo ones
        self.redis_pid = self._redis_pid()
        self.env = {
            **os.environ,
            "FABRIKAM_ROLE": "all",
            "FABRIKAM_DATA_DIR": str(data_dir),
            "DEBUG": "true",
            "LOG_LEVEL": "WARNING",
            "OTEL_SDK_DISABLED": "true",
            "THROTTLE_CLIENT_RATE": "10000000/minute",
            "THROTTLE_IP_RATE": "10000000/minute",
            "DELIVERY_REQUESTS_QUEUE": f"bench-{uuid.uuid4().hex[:8]}",
            "SERVICE_URL_PACKAGE": self.url,
            "SERVICE_URL_DRONESCHEDULER": self.url,
            "SERVICE_URL_DELIVERY": self.url,
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("OTEL_SDK_DISABLED", "DELIVERY_REQUESTS_QUEUE"):  # the bench process too
            os.environ[name] = self.env[name]

    def _redis_pid(self) -> int | None:
        sock = str(self.data_dir / "redis" / "redis.sock")
        for proc in psutil.process_iter(["cmdline"]):
            with contextlib.suppress(psutil.Error):
                if any(sock in part for part in proc.info["cmdline"] or ()):
                    return proc.pid
        return None

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout.strip()

    def prepare(self) -> str:
        say(f"==> migrating and seeding {self.drones} drones (SQLite in {self.data_dir})")
        self.manage("migrate", "--noinput", "-v0")
        self.manage("migrate", "--database", "packages", "--noinput", "-v0")
        area = f"{CENTER[0]},{CENTER[1]},{AREA_KM}"
        self.manage("seed_fleet", "--drones", str(self.drones), "--area", area)
        return self.manage("issue_token", "--owner", "bench").splitlines()[-1]

    def start_http(self) -> None:
        from django.conf import settings

        from fabrikam.runtime import processes

        say("==> starting gunicorn (every HTTP role) and the bare baseline")
        workers = settings.GUNICORN_WORKERS
        self.http = subprocess.Popen(
            processes.gunicorn("127.0.0.1", self.port, workers), cwd=ROOT, env=self.env
        )
        bare = processes.gunicorn("127.0.0.1", self.bare_port, workers)
        bare[bare.index("fabrikam.asgi:application")] = "bench.support.bare_app:application"
        config = bare.index("--config")
        del bare[config : config + 2]
        threads = {"GUNICORN_THREADS": str(settings.GUNICORN_THREADS)}
        self.bare = subprocess.Popen(bare, cwd=ROOT, env={**self.env, **threads})
        for url in (f"{self.url}/healthz/ready", f"{self.bare_url}/bare"):
            wait_for(lambda url=url: _ok(url), 60, url)

    def start_worker(self) -> None:
        from fabrikam.runtime import processes

        self.workers = [
            subprocess.Popen(argv, cwd=ROOT, env=self.env)
            for argv in processes.celery_workers().values()
        ]

    def stop_worker(self) -> None:
        for worker in self.workers:
            stop(worker)
        self.workers = []

    def cpu(self) -> dict[str, float]:
        redis = 0.0
        if self.redis_pid:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = psutil.Process(self.redis_pid).cpu_times()
                redis = times.user + times.system
        return {
            "gunicorn": cpu_seconds(self.http),
            "worker": sum(cpu_seconds(worker) for worker in self.workers),
            "redis": redis,
            "baseline_gunicorn": cpu_seconds(self.bare),
        }

    def worker_cpu(self, server: str) -> dict[int, float]:
        return worker_cpu_seconds(self.bare if server == "baseline_gunicorn" else self.http)

    def close(self) -> None:
        for process in (*self.workers, self.http, self.bare):
            stop(process)


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def _ok(url: str) -> bool:
    import requests

    return requests.get(url, timeout=2).status_code == 200


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if value := predicate():
                return value
        time.sleep(0.2)  # polling processes we started; they signal nothing
    raise SystemExit(f"gave up after {timeout:.0f}s waiting for {what}")


class Phase:
    """CPU per process kind and load average over one measured phase."""

    def __init__(
        self, system: System, name: str, results: dict[str, Any], server: str = "gunicorn"
    ) -> None:
        self.system, self.name, self.results, self.server = system, name, results, server

    def __enter__(self) -> Phase:
        say(f"==> {self.name}")
        self.load_before = loadavg()
        self.cpu_before = self.system.cpu()
        self.workers_before = self.system.worker_cpu(self.server)
        self.started = time.time()
        return self

    def __exit__(self, *exc: object) -> None:
        after = self.system.cpu()
        workers = self.system.worker_cpu(self.server)
        wall = time.time() - self.started
        cpu = {k: round(after[k] - self.cpu_before.get(k, 0.0), 2) for k in after}
        used = [workers[pid] - self.workers_before.get(pid, 0.0) for pid in workers]
        self.results.setdefault("phases", {})[self.name] = {
            "seconds": round(wall, 1),
            "load_average": [self.load_before, loadavg()],
            "cpu_seconds": cpu,
            # how many cores the server kept busy, and the busiest worker's share of its CPU
            "cores_busy": round(cpu[self.server] / wall, 2) if wall else 0.0,
            "busiest_worker_share": round(max(used) / sum(used), 2) if sum(used) > 0 else 0.0,
        }

    @property
    def on_one_core(self) -> bool:
        return ran_on_one_core(self.results["phases"][self.name])


def saturated(
    system: System, name: str, results: dict[str, Any], run: Callable[[], wrk.WrkRun], **kw: Any
) -> tuple[Phase, wrk.WrkRun]:
    """A saturated wrk phase; run again once when one gunicorn worker did (nearly) all of it."""
    with Phase(system, name, results, **kw) as phase:
        done = run()
    if phase.on_one_core:
        first = results["phases"][name]
        say(
            f"    !! {name} ran on one core (a worker did {first['busiest_worker_share']:.0%} of "
            f"the work, {first['cores_busy']} cores busy, {done.rate:,.0f} req/s): running it again"
        )
        with Phase(system, name, results, **kw) as phase:
            done = run()
        results["phases"][name]["first_attempt_on_one_core"] = first
        if phase.on_one_core:
            say(f"    !! {name} ran on one core again: its ratio is not comparable")
    return phase, done


def saga_state(delivery_ids: list[str]) -> dict[str, tuple[str, float]]:
    """status and updatedAt of each delivery's saga (read straight from the workflow's Redis)."""
    from fabrikam.apps.workflow import repository

    redis = repository._redis()
    found: dict[str, tuple[str, float]] = {}
    for start in range(0, len(delivery_ids), 500):
        chunk = delivery_ids[start : start + 500]
        pipe = redis.pipeline(transaction=False)
        for delivery_id in chunk:
            pipe.hmget(repository._key("saga", delivery_id), "status", "updatedAt")
        for delivery_id, (status, updated) in zip(chunk, pipe.execute(), strict=True):
            if status:
                found[delivery_id] = (status.decode(), float(updated))
    return found


def wait_for_sagas(delivery_ids: list[str], timeout: float) -> dict[str, tuple[str, float]]:
    """Poll until every saga is final or `timeout` passes, showing progress."""
    deadline = time.monotonic() + timeout
    state: dict[str, tuple[str, float]] = {}
    while time.monotonic() < deadline:
        state = saga_state(delivery_ids)
        done = sum(status in FINAL for status, _ in state.values())
        print(f"\r  sagas final: {done}/{len(delivery_ids)}", end="", flush=True)
        if done == len(delivery_ids):
            break
        time.sleep(0.25)  # the sagas run in another process
    print(flush=True)
    return state


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def open_loop(url: str, token: str, rate: float, seconds: float) -> list[tuple[float, str]]:
    """POST delivery requests at `rate` per second on a schedule (not waiting for answers), from a
    few threads; returns (time of the 202, deliveryId)."""
    import requests

    body = json.dumps(REQUEST_TEMPLATE)
    sessions = threading.local()
    accepted: list[tuple[float, str]] = []
    lock = threading.Lock()
    start = time.time() + 0.2
    count = int(rate * seconds)

    def send(n: int) -> None:
        delay = start + n / rate - time.time()
        if delay > 0:
            time.sleep(delay)  # the open-loop schedule
        session = getattr(sessions, "session", None) or requests.Session()
        sessions.session = session
        lat = CENTER[0] + ((n * 7919) % 1000 - 500) / 500 * AREA_KM / 111.2 * 0.7
        lon = CENTER[1] + ((n * 104729) % 1000 - 500) / 500 * AREA_KM / 75.0 * 0.7
        payload = (
            body.replace("__PICKUP__", f"{lat:.5f},{lon:.5f}")
            .replace('"__DROP_LAT__"', f"{lat + 0.01:.5f}")
            .replace('"__DROP_LON__"', f"{lon + 0.01:.5f}")
        )
        response = session.post(
            f"{url}/api/deliveryrequests",
            data=payload,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=10,
        )
        if response.status_code == 202:
            with lock:
                accepted.append((time.time(), response.json()["deliveryId"]))

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(send, range(count)))
    return accepted


@contextlib.contextmanager
def profiling(
    enabled: bool, name: str, processes: list[subprocess.Popen | None], seconds: float
) -> Iterator[None]:
    """py-spy samples each process tree for `seconds` (collapsed stacks under bench/results/,
    summarised by bench/support/profile.py)."""
    if not enabled:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    recorders = []
    for process in processes:
        if process is None:
            continue
        out = RESULTS / f"profile-{name}-{process.pid}.txt"
        recorders.append(
            subprocess.Popen(
                [spy, "record", "--pid", str(process.pid), "--subprocesses", "--format", "raw",
                 "--rate", "50", "--duration", str(int(seconds)), "--output", str(out),
                 "--nonblocking"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
    try:
        yield
    finally:
        for recorder in recorders:
            try:
                recorder.wait(seconds + 30)
            except subprocess.TimeoutExpired:
                recorder.kill()


def purge_queue() -> None:
    from fabrikam.celery import app

    with contextlib.suppress(Exception):
        app.control.purge()


def run_assignment(database_url: str | None, drones: int, requests: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.pop("FABRIKAM_DATA_DIR", None)
        if database_url:
            env["DATABASE_URL"] = database_url
        command = [
            sys.executable,
            str(ROOT / "bench" / "assignment_latency.py"),
            "--drones",
            str(drones),
            "--requests",
            str(requests),
            "--no-scan",
            "--json",
            out.name,
        ]
        subprocess.run(command, cwd=ROOT, env=env, check=True)
        return json.loads(Path(out.name).read_text())


def postgres_url() -> str | None:
    for name in ("BENCH_POSTGRES_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgres://", "postgresql://")):
            return url
    return None


def measure(args: argparse.Namespace, data_dir: Path, results: dict[str, Any]) -> None:
    import django

    system = System(data_dir, args.drones)
    os.environ["FABRIKAM_DATA_DIR"] = str(data_dir)
    django.setup()
    token = system.prepare()
    body_file = data_dir / "request.json"
    body_file.write_text(json.dumps(REQUEST_TEMPLATE))
    spread = {
        "BENCH_SPREAD_KM": str(AREA_KM * 0.7),
        "BENCH_CENTER": f"{CENTER[0]},{CENTER[1]}",
    }
    os.environ.update(spread)
    post = {"method": "POST", "token": token, "body_file": body_file}
    series: dict[str, Any] = {}
    try:
        system.start_http()
        say("==> warming the bare view up (its connections then dealt to workers that all serve)")
        wrk.run(system.bare_url, "/bare", seconds=1)
        _, base = saturated(
            system,
            "baseline",
            results,
            lambda: wrk.run(system.bare_url, "/bare", seconds=args.seconds),
            server="baseline_gunicorn",
        )
        results["baseline"] = base.summary()
        series["baseline"] = base.per_second

        say("==> warming the system up (first requests load keys and modules in each worker)")
        wrk.run(system.url, "/api/deliveryrequests", seconds=2, **post)
        with profiling(args.profile, "ingestion", [system.http], args.seconds):
            phase, sat = saturated(
                system,
                "ingestion saturated",
                results,
                lambda: wrk.run(system.url, "/api/deliveryrequests", seconds=args.seconds, **post),
            )
        results["ingestion"] = {"saturated": sat.summary()}
        results["ingestion"]["cpu_ms_per_request"] = _cpu_ms(results, phase.name, sat.requests)
        series["ingestion"] = sat.per_second
        half = max(1.0, sat.rate / 2)
        connections = 4
        with Phase(system, "ingestion half rate", results):
            calm = wrk.run(
                system.url,
                "/api/deliveryrequests",
                seconds=args.seconds,
                connections=connections,
                delay_ms=1000 * connections / half,
                **post,
            )
        results["ingestion"]["half_rate"] = calm.summary()
        purge_queue()

        say("==> end to end: starting the workflow worker (and one delivery to warm it up)")
        system.start_worker()
        warm = open_loop(system.url, token, 1.0, 1.0)
        wait_for_sagas([i for _, i in warm], timeout=60)
        ids_file = data_dir / "ids.txt"
        with (
            Phase(system, "end to end burst", results) as phase,
            profiling(args.profile, "end-to-end", [system.http, *system.workers], 30),
        ):
            started = time.time()
            burst = wrk.run(
                system.url,
                "/api/deliveryrequests",
                seconds=60,
                max_requests=args.deliveries,
                ids_file=ids_file,
                until=lambda: _lines(ids_file) >= args.deliveries,
                **post,
            )
            ids = ids_file.read_text().split()
            state = wait_for_sagas(ids, timeout=args.drain_timeout)
        completed = sorted(t for s, t in state.values() if s == "completed")
        span = (completed[-1] - started) if completed else float("nan")
        e2e_rate = len(completed) / span if completed else 0.0
        results["end_to_end"] = {
            "accepted": len(ids),
            "completed": len(completed),
            "compensated": sum(s == "compensated" for s, _ in state.values()),
            "not_final": len(ids) - sum(s in FINAL for s, _ in state.values()),
            "seconds_first_request_to_last_completion": round(span, 2),
            "deliveries_per_s": round(e2e_rate, 1),
            "ingestion_during_burst_per_s": round(burst.rate, 1),
            "cpu_ms_per_delivery": _cpu_ms(results, phase.name, len(completed)),
        }
        series["completions"] = [round(t - started, 3) for t in completed]

        purge_queue()  # what the burst left undone must not delay the half-rate run
        rate = max(1.0, e2e_rate / 2)
        with Phase(system, "end to end half rate", results):
            sent = open_loop(system.url, token, rate, args.seconds)
            state = wait_for_sagas([i for _, i in sent], timeout=args.drain_timeout)
        latencies = [
            (accepted_at, state[i][1] - accepted_at)
            for accepted_at, i in sent
            if state.get(i, ("", 0))[0] == "completed"
        ]
        lat_ms = [1000 * d for _, d in latencies]
        results["end_to_end"]["half_rate"] = {
            "target_per_s": round(rate, 1),
            "accepted": len(sent),
            "completed": len(latencies),
            "p50_ms_202_to_scheduled": round(percentile(lat_ms, 0.5), 1),
            "p99_ms_202_to_scheduled": round(percentile(lat_ms, 0.99), 1),
        }
        t0 = min((a for a, _ in latencies), default=0.0)
        series["scheduled_latency"] = [(round(a - t0, 3), round(d * 1000, 1)) for a, d in latencies]

        scheduled = next((i for i, (s, _) in state.items() if s == "completed"), None) or ids[0]
        system.stop_worker()
        _, owned = saturated(
            system,
            "status (token)",
            results,
            lambda: wrk.run(
                system.url, f"/api/deliveries/{scheduled}/status", seconds=args.seconds, token=token
            ),
        )
        _, public = saturated(
            system,
            "status (public)",
            results,
            lambda: wrk.run(
                system.url, f"/api/deliveries/public/{scheduled}/status", seconds=args.seconds
            ),
        )
        results["status"] = {"token": owned.summary(), "public": public.summary()}
        series["status"] = owned.per_second
    finally:
        system.close()
    results["_series"] = series


def _lines(path: Path) -> int:
    return path.read_text().count("\n") if path.exists() else 0


def _cpu_ms(results: dict[str, Any], phase: str, count: int) -> dict[str, float]:
    cpu = results["phases"][phase]["cpu_seconds"]
    return {k: round(1000 * v / count, 2) if count else 0.0 for k, v in cpu.items()}


def _cpu_per_request(results: dict[str, Any], phase: str, server: str, done: dict) -> float:
    return results["phases"][phase]["cpu_seconds"][server] / max(1, done["requests"])


def ratios(results: dict[str, Any]) -> dict[str, float]:
    """Throughput against the bare view's, and beside each the CPU-per-request ratio (the bare
    view's CPU per request / the phase's), which the machine's speed moves much less."""
    base = results["baseline"]["per_s"]
    ingestion = results["ingestion"]["saturated"]["per_s"]
    base_cpu = _cpu_per_request(results, "baseline", "baseline_gunicorn", results["baseline"])
    cpu = {
        key: round(base_cpu / per, 3)
        if (per := _cpu_per_request(results, phase, "gunicorn", done))
        else 0.0
        for key, phase, done in (
            ("ingestion_cpu_vs_baseline", "ingestion saturated", results["ingestion"]["saturated"]),
            ("status_cpu_vs_baseline", "status (token)", results["status"]["token"]),
            ("public_status_cpu_vs_baseline", "status (public)", results["status"]["public"]),
        )
    }
    return {
        "ingestion_vs_baseline": round(ingestion / base, 3),
        "status_vs_baseline": round(results["status"]["token"]["per_s"] / base, 3),
        "public_status_vs_baseline": round(results["status"]["public"]["per_s"] / base, 3),
        "end_to_end_vs_ingestion": round(results["end_to_end"]["deliveries_per_s"] / ingestion, 3),
        **cpu,
    }


def _busy(results: dict[str, Any], phase: str) -> str:
    """The cores a saturated phase kept busy, flagged when one worker did nearly all of it."""
    found = results["phases"][phase]
    flag = " ONE CORE" if ran_on_one_core(found) else ""
    return f", {found['cores_busy']:.2f} cores{flag}"


def table(results: dict[str, Any]) -> str:
    r, ratio = results, results["ratios"]
    ing, e2e = r["ingestion"], r["end_to_end"]
    rows = [
        (
            "bare Django JSON view (baseline)",
            f"{r['baseline']['per_s']:,.0f} req/s{_busy(r, 'baseline')}",
            "1.00x",
            "",
        ),
        (
            "POST /api/deliveryrequests, saturated",
            f"{ing['saturated']['per_s']:,.0f} req/s{_busy(r, 'ingestion saturated')}",
            f"{ratio['ingestion_vs_baseline']:.2f}x "
            f"(CPU {ratio['ingestion_cpu_vs_baseline']:.2f}x)",
            "≥ 0.6x",
        ),
        (
            "  … at half rate: p50 / p99",
            f"{ing['half_rate']['latency_ms']['p50']:.0f} / "
            f"{ing['half_rate']['latency_ms']['p99']:.0f} ms "
            f"({ing['half_rate']['per_s']:.0f}/s)",
            "",
            "p99 ≤ 50 ms",
        ),
        (
            "deliveries completed end to end",
            f"{e2e['deliveries_per_s']:,.1f}/s",
            f"{ratio['end_to_end_vs_ingestion']:.2f}x ingestion",
            "≥ 150/s, ≥ 0.2x",
        ),
        (
            "  … at half rate: 202→scheduled p50 / p99",
            f"{e2e['half_rate']['p50_ms_202_to_scheduled']:.0f} / "
            f"{e2e['half_rate']['p99_ms_202_to_scheduled']:.0f} ms",
            "",
            "p99 ≤ 1000 ms",
        ),
        (
            "GET /api/deliveries/{id}/status (token)",
            f"{r['status']['token']['per_s']:,.0f} req/s{_busy(r, 'status (token)')}",
            f"{ratio['status_vs_baseline']:.2f}x (CPU {ratio['status_cpu_vs_baseline']:.2f}x)",
            "≥ 0.8x",
        ),
        (
            "GET public status",
            f"{r['status']['public']['per_s']:,.0f} req/s{_busy(r, 'status (public)')}",
            f"{ratio['public_status_vs_baseline']:.2f}x "
            f"(CPU {ratio['public_status_cpu_vs_baseline']:.2f}x)",
            "",
        ),
    ]
    for vendor, found in r["assignment"].items():
        if "p99_ms" in found:
            rows.append(
                (
                    f"drone assignment, {r['drones']:,} drones, {vendor}: p50 / p99",
                    f"{found['p50_ms']:.1f} / {found['p99_ms']:.1f} ms",
                    "",
                    "p99 ≤ 20 ms",
                )
            )
            if "selection_p99_ms" in found:
                rows.append(
                    (
                        "  … the selection alone (rolled back): p50 / p99",
                        f"{found['selection_p50_ms']:.1f} / {found['selection_p99_ms']:.1f} ms",
                        "",
                        "",
                    )
                )
        else:
            rows.append((f"drone assignment, {vendor}", found.get("skipped", "?"), "", ""))
    width = max(len(row[0]) for row in rows)
    lines = [f"| {'':{width}} | measured | ratio | target |", f"|{'-' * (width + 2)}|---|---|---|"]
    lines += [f"| {a:{width}} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drones", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="per wrk phase")
    parser.add_argument("--deliveries", type=int, default=1000, help="end-to-end burst size")
    parser.add_argument("--drain-timeout", type=float, default=90.0)
    parser.add_argument("--assignment-requests", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="short phases: a smoke run")
    parser.add_argument("--label", default="", help="a note stored in the JSON")
    parser.add_argument("--profile", action="store_true", help="py-spy the busy phases")
    parser.add_argument("--skip-assignment", action="store_true", help="no assignment phase")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.deliveries, args.assignment_requests = 3.0, 200, 60
    wrk.require()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    results: dict[str, Any] = {
        "when": stamp,
        "label": args.label,
        "git": _git_describe(),
        "cores": psutil.cpu_count(),
        "drones": args.drones,
        "load_average_at_start": list(os.getloadavg()),
    }
    postgres = postgres_url()  # DATABASE_URL's server serves the assignment phase only
    ignored = make_run_shape()
    if ignored:
        say(f"==> measuring make run's shape: ignoring {', '.join(ignored)} from the environment")
    results["ignored_environment"] = ignored
    started = time.monotonic()
    with local_stores() as data_dir:
        measure(args, data_dir, results)
    results["assignment"] = {}
    for vendor, url in (("sqlite", None), ("postgresql", postgres)):
        say(f"==> drone assignment latency, {vendor}")
        if args.skip_assignment:
            results["assignment"][vendor] = {"skipped": "--skip-assignment"}
            continue
        if vendor == "postgresql" and url is None:
            results["assignment"][vendor] = {"skipped": "set BENCH_POSTGRES_URL to measure"}
            continue
        results["assignment"][vendor] = run_assignment(url, args.drones, args.assignment_requests)
    results["ratios"] = ratios(results)
    results["load_average_at_end"] = list(os.getloadavg())
    results["seconds"] = round(time.monotonic() - started, 1)
    series = results.pop("_series")
    RESULTS.mkdir(exist_ok=True)
    json_path = RESULTS / f"{stamp}.json"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    png_path = RESULTS / f"{stamp}.png"
    from bench.support.plot import plot

    plot(series, results, png_path)
    shutil.copyfile(json_path, RESULTS / "latest.json")
    shutil.copyfile(png_path, RESULTS / "latest.png")
    say("\n" + table(results))
    say(
        f"\nload average during the run: {results['load_average_at_start'][0]:.2f} → "
        f"{results['load_average_at_end'][0]:.2f} on {results['cores']} cores"
    )
    say(f"wrote {json_path.relative_to(ROOT)} and {png_path.relative_to(ROOT)} (and latest.*)")


def _git_describe() -> str:
    with contextlib.suppress(Exception):
        return subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    return ""


if __name__ == "__main__":
    main()
