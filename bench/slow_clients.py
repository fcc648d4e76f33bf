"""API latency while slow-header clients and open tracking streams are held against `make run`.

    python bench/slow_clients.py [--slow 200] [--streams 1000] [--seconds 20] [--port 18200]

Starts the local `all` shape (`manage.py dev`: gunicorn, the tracking stream server, the workflow
worker, beat and the embedded Redis) in a throwaway data directory, on 127.0.0.1 only. Measures, in
the same run, API requests with nothing held (the baseline), then while `--slow` connections send
their request headers one line every 2 s (reconnecting when the server closes them, as a slowloris
does) and `--streams` tracking streams stay open:

  * business requests (GET .../status) and internal calls (PUT /api/packages/{id} with the
    workflow's timeout, HTTP_CLIENT_TIMEOUT): p50/p99/max and how many timed out;
  * delivery requests posted during the hold: how many the workflow scheduled (its internal calls
    to three services, over HTTP: WORKFLOW_IN_PROCESS_CALLS=false, succeeded), still held.

Bounded: every connection ends when the run ends (about --seconds + 60 s with start-up).
Needs `ulimit -n` above 2 x (slow + streams) + 200 (both ends of each connection on this machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import delivery_request  # noqa: E402
from tests.support.live import manage  # noqa: E402

INTERNAL_TIMEOUT = 5.0  # the workflow's HTTP_CLIENT_TIMEOUT default
PROBE_TIMEOUT = 10.0
PROBERS = 4  # concurrent probe loops, each one request at a time


@dataclass
class Samples:
    latencies: list[float] = field(default_factory=list)
    timeouts: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def add_error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def summary(self) -> str:
        if not self.latencies:
            return f"no answer at all; timeouts {self.timeouts}, errors {self.errors}"
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (
            f"n={len(ordered)} p50={statistics.median(ordered) * 1000:.1f} ms "
            f"p99={p99 * 1000:.1f} ms max={ordered[-1] * 1000:.1f} ms "
            f"timeouts={self.timeouts} errors={self.errors or 0}"
        )


async def request(
    host: str,
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes = b"",
    timeout: float = PROBE_TIMEOUT,
) -> tuple[int, bytes]:
    """One HTTP/1.1 request on its own connection (Connection: close): (status, body)."""

    async def go() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
            head += [f"{name}: {value}" for name, value in headers.items()]
            if body or method in ("PUT", "POST"):
                head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            await writer.drain()
            answer = await reader.read()
        finally:
            writer.close()
        status_line, _, rest = answer.partition(b"\r\n")
        status = int(status_line.split()[1]) if status_line.startswith(b"HTTP/") else 0
        return status, rest.partition(b"\r\n\r\n")[2]

    return await asyncio.wait_for(go(), timeout)


class Attack:
    """Slow-header connections and open streams, kept at their counts until `stop()`."""

    def __init__(self, host: str, port: int, stream_url: str) -> None:
        self.host, self.port = host, port
        parts = urlsplit(stream_url)
        self.stream_host = parts.hostname or host
        self.stream_port = parts.port or port
        self.stream_path = parts.path
        self.running = True
        self.slow_open = 0
        self.slow_reconnects = 0
        self.streams_open = 0
        self.stream_refusals: dict[int, int] = {}
        self.stream_failures = 0
        self.tasks: list[asyncio.Task] = []

    async def slow_client(self, number: int) -> None:
        while self.running:
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                self.slow_reconnects += 1
                await asyncio.sleep(1)
                continue
            self.slow_open += 1
            try:
                writer.write(f"GET /healthz/live HTTP/1.1\r\nHost: {self.host}\r\n".encode())
                await writer.drain()
                line = 0
                while self.running and not reader.at_eof():
                    try:
                        await asyncio.wait_for(reader.read(1024), 2.0)
                        break  # the server answered (e.g. 408) or closed: reconnect
                    except TimeoutError:
                        pass
                    line += 1
                    writer.write(f"X-Slow-{number}-{line}: 1\r\n".encode())
                    await writer.drain()
            except OSError:
                pass
            finally:
                self.slow_open -= 1
                writer.close()
            if self.running:
                self.slow_reconnects += 1

    async def stream(self) -> None:
        try:
            reader, writer = await asyncio.open_connection(self.stream_host, self.stream_port)
        except OSError:
            self.stream_failures += 1
            return
        try:
            writer.write(
                (
                    f"GET {self.stream_path} HTTP/1.1\r\nHost: {self.stream_host}\r\n"
                    "Accept: text/event-stream\r\n\r\n"
                ).encode()
            )
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), 60)
            status = int(status_line.split()[1]) if status_line.startswith(b"HTTP/") else 0
            if status != 200:
                self.stream_refusals[status] = self.stream_refusals.get(status, 0) + 1
                return
            self.streams_open += 1
            try:
                while self.running and await reader.read(4096):
                    pass
            finally:
                self.streams_open -= 1
        except (OSError, TimeoutError):
            self.stream_failures += 1
        finally:
            writer.close()

    async def start(self, slow: int, streams: int) -> None:
        self.tasks += [asyncio.create_task(self.slow_client(n)) for n in range(slow)]
        for _ in range(streams):
            self.tasks.append(asyncio.create_task(self.stream()))
            await asyncio.sleep(0.002)  # ~500 new connections a second, not a burst

    async def stop(self) -> None:
        self.running = False
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class Probes:
    def __init__(self, host: str, port: int, tokens: dict[str, str], delivery_id: str) -> None:
        self.host, self.port, self.tokens, self.delivery_id = host, port, tokens, delivery_id

    async def business(self, samples: Samples, until: float) -> None:
        path = f"/api/deliveries/{self.delivery_id}/status"
        auth = {"Authorization": f"Bearer {self.tokens['business']}"}
        while time.monotonic() < until:
            await self._timed(samples, "GET", path, auth, b"", PROBE_TIMEOUT)

    async def internal(self, samples: Samples, until: float) -> None:
        auth = {"Authorization": f"Bearer {self.tokens['internal']}"}
        body = json.dumps({"size": "Small", "weight": 1.0, "tag": "probe", "ownerId": "contoso"})
        while time.monotonic() < until:
            path = f"/api/packages/probe-{uuid.uuid4().hex[:12]}"
            await self._timed(samples, "PUT", path, auth, body.encode(), INTERNAL_TIMEOUT)

    async def _timed(
        self,
        samples: Samples,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        timeout: float,
    ) -> None:
        started = time.perf_counter()
        try:
            status, _ = await request(self.host, self.port, method, path, headers, body, timeout)
        except TimeoutError:
            samples.timeouts += 1
            return
        except OSError as exc:
            samples.add_error(type(exc).__name__)
            await asyncio.sleep(0.1)
            return
        if status >= 400 or status == 0:
            samples.add_error(str(status))
            return
        samples.latencies.append(time.perf_counter() - started)

    async def run(self, seconds: float) -> tuple[Samples, Samples]:
        business, internal = Samples(), Samples()
        until = time.monotonic() + seconds
        loops = [self.business(business, until) for _ in range(PROBERS // 2)]
        loops += [self.internal(internal, until) for _ in range(PROBERS - PROBERS // 2)]
        await asyncio.gather(*loops)
        return business, internal


async def post_delivery(host: str, port: int, token: str, package_id: str) -> str | None:
    body = delivery_request(package_id)
    try:
        status, answer = await request(
            host,
            port,
            "POST",
            "/api/deliveryrequests",
            {"Authorization": f"Bearer {token}"},
            json.dumps(body).encode(),
        )
    except (TimeoutError, OSError):
        return None
    return json.loads(answer)["deliveryId"] if status == 202 else None


async def scheduled(host: str, port: int, token: str, delivery_id: str) -> bool:
    try:
        status, _ = await request(
            host,
            port,
            "GET",
            f"/api/deliveries/{delivery_id}",
            {"Authorization": f"Bearer {token}"},
            timeout=5,
        )
    except (TimeoutError, OSError):
        return False
    return status == 200


async def wait_scheduled(host: str, port: int, token: str, ids: list[str], until: float) -> int:
    pending = set(ids)
    while pending and time.monotonic() < until:
        for delivery_id in list(pending):
            if await scheduled(host, port, token, delivery_id):
                pending.discard(delivery_id)
        await asyncio.sleep(0.5)  # polling the workflow's outcome over HTTP
    return len(ids) - len(pending)


def gunicorn_memory(server_pid: int) -> str:
    """Resident memory of the gunicorn processes under `manage.py dev`."""
    found = [
        process
        for process in psutil.Process(server_pid).children(recursive=True)
        if "gunicorn" in " ".join(process.cmdline())
    ]
    total = sum(process.memory_info().rss for process in found)
    return f"{total / 2**20:.0f} MiB in {len(found)} gunicorn processes"


async def measure(args: argparse.Namespace, tokens: dict[str, str], server_pid: int) -> None:
    host, port = "127.0.0.1", args.port
    delivery_id = await post_delivery(host, port, tokens["business"], "bench-first")
    assert delivery_id, "the first delivery request was refused"
    if not await wait_scheduled(host, port, tokens["business"], [delivery_id], time.time() + 60):
        raise SystemExit("the workflow did not schedule the first delivery within 60 s")
    probes = Probes(host, port, tokens, delivery_id)
    stream_url = await stream_url_of(port, delivery_id)

    print(f"  memory: {gunicorn_memory(server_pid)}", flush=True)
    print(f"baseline: probing for {args.seconds:.0f} s with nothing held …", flush=True)
    base_business, base_internal = await probes.run(args.seconds)

    attack = Attack(host, port, stream_url)
    print(
        f"holding {args.slow} slow-header connections and opening {args.streams} streams "
        f"({stream_url}) …",
        flush=True,
    )
    await attack.start(args.slow, args.streams)
    deadline = time.monotonic() + 60
    while attack.streams_open + sum(attack.stream_refusals.values()) < args.streams:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)  # waiting for the streams' first line
    print(
        f"  held: slow={attack.slow_open} streams open={attack.streams_open} "
        f"refused={attack.stream_refusals or 0} failed={attack.stream_failures}",
        flush=True,
    )
    print(f"  memory: {gunicorn_memory(server_pid)}", flush=True)
    print(f"under load: probing for {args.seconds:.0f} s …", flush=True)
    ids = [await post_delivery(host, port, tokens["business"], f"bench-{n}") for n in range(5)]
    held_business, held_internal = await probes.run(args.seconds)
    done = await wait_scheduled(
        host, port, tokens["business"], [i for i in ids if i], time.monotonic() + 30
    )
    print(
        f"  still held at the end: slow={attack.slow_open} (reconnects {attack.slow_reconnects})"
        f" streams open={attack.streams_open} refused={attack.stream_refusals or 0}"
        f" failed={attack.stream_failures}",
        flush=True,
    )
    await attack.stop()

    print("\nresults")
    print(f"  business GET baseline : {base_business.summary()}")
    print(f"  business GET held     : {held_business.summary()}")
    print(f"  internal PUT baseline : {base_internal.summary()}")
    print(f"  internal PUT held     : {held_internal.summary()}")
    print(f"  delivery requests posted during the hold: {sum(1 for i in ids if i)}/5 accepted,")
    print(f"    {done} scheduled by the workflow within 30 s of the hold")
    if base_business.latencies and held_business.latencies:
        ratio = _p99(held_business) / _p99(base_business)
        print(f"  p99 held / baseline (business GET): {ratio:.1f}x")


def _p99(samples: Samples) -> float:
    ordered = sorted(samples.latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def wait_ready(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"manage.py dev exited:\n{log.read_text()[-3000:]}")
        try:
            status, _ = asyncio.run(request("127.0.0.1", port, "GET", "/healthz/ready", {}))
            if status == 200:
                return
        except (OSError, TimeoutError):
            pass
        time.sleep(0.5)  # polling a child process's readiness
    raise SystemExit(f"not ready after 60 s:\n{log.read_text()[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slow", type=int, default=200)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--port", type=int, default=18200)
    parser.add_argument(
        "--database-url",
        help="an empty database to use (e.g. PostgreSQL); default: a throwaway SQLite file, as "
        "`make run` has",
    )
    args = parser.parse_args()
    needed = 2 * (args.slow + args.streams) + 200
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        if hard < needed:
            raise SystemExit(f"ulimit -n is {soft} (hard {hard}); {needed} needed: raise it")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))  # children inherit it

    data_dir = Path(tempfile.mkdtemp(prefix="fabrikam-bench-slow-"))
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")},
        "DEBUG": "true",
        "FABRIKAM_DATA_DIR": str(data_dir),
        "DATABASE_URL": args.database_url or f"sqlite:///{data_dir / 'bench.sqlite3'}",
        # Every connection comes from 127.0.0.1: the per-IP rate would refuse the bench itself.
        "THROTTLE_IP_RATE": "1000000/minute",
        "THROTTLE_CLIENT_RATE": "1000000/minute",
        # The saga's calls go over HTTP to the services, as between pods (and as in issue 16).
        "WORKFLOW_IN_PROCESS_CALLS": "false",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("FABRIKAM_ROLE", None)
    log = data_dir / "dev.log"
    server = None
    try:
        print(f"preparing {data_dir} (migrate, seed) …", flush=True)
        manage(["migrate", "--noinput", "-v0"], env)
        manage(["migrate", "--database", "packages", "--noinput", "-v0"], env)
        manage(["seed_fleet", "--drones", "25", "--area", "47.6062,-122.3321,8"], env)
        tokens = {
            "business": manage(["issue_token", "--owner", "contoso"], env).strip(),
            "internal": manage(["issue_token", "--scope", "internal"], env).strip(),
        }
        print(f"starting manage.py dev on 127.0.0.1:{args.port} …", flush=True)
        with log.open("w") as handle:
            server = subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "dev",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(args.port),
                ],
                cwd=ROOT,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_ready(args.port, server, log)
        asyncio.run(measure(args, tokens, server.pid))
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        shutil.rmtree(data_dir, ignore_errors=True)


async def stream_url_of(port: int, delivery_id: str) -> str:
    """Where the tracking page opens its stream: the page says it."""
    status, page = await request("127.0.0.1", port, "GET", f"/track/{delivery_id}", {})
    found = re.search(rb'"stream":\s*"([^"]+)"', page)
    if status != 200 or not found:
        raise SystemExit(f"the tracking page ({status}) names no stream URL")
    url = found.group(1).decode()
    return url if url.startswith("http") else f"http://127.0.0.1:{port}{url}"


if __name__ == "__main__":
    main()
