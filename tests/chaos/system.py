"""The system under fault: every role in its own process (gunicorn for the HTTP roles, the Celery
workflow worker, the scheduler), as on AKS, with the workflow reaching the drone scheduler through
a FaultyProxy so a scenario can make that service fail or hang. Processes can be killed, stopped
and replaced while the load runs."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.faulty_proxy import FaultyProxy
from tests.support.live import LiveSystem, Process, free_port, manage

HTTP_ROLES = ("ingestion", "delivery", "package", "dronescheduler")
WORKER_ROLES = ("workflow", "scheduler")


@dataclass
class ChaosSystem:
    live: LiveSystem
    proxy: FaultyProxy
    broker_url: str
    urls: dict[str, str] = field(default_factory=dict)
    current: dict[str, Process] = field(default_factory=dict)
    restarts: list[dict[str, object]] = field(default_factory=list)  # workers that exited alone
    lock: threading.RLock = field(default_factory=threading.RLock)
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def queue(self) -> str:
        return self.live.env["DELIVERY_REQUESTS_QUEUE"]

    @property
    def deadletter_queue(self) -> str:
        return f"{self.queue}-deadletter"

    @property
    def database_url(self) -> str:
        return self.live.env["DATABASE_URL"]

    def launch(self, role: str, port: int = 0) -> tuple[str, Process]:
        """Start another instance of `role`; its base URL and process once it is ready."""
        port = port or free_port()
        process = self.live.start(f"{role}-{port}", ["serve", "--role", role, "--port", str(port)])
        url = f"http://127.0.0.1:{port}"
        self.live.wait_ready(url, timeout=90)
        return url, process

    def start_role(self, role: str, port: int = 0) -> str:
        with self.lock:
            self.urls[role], self.current[role] = self.launch(role, port)
            return self.urls[role]

    def keep_workers_running(self) -> threading.Thread:
        """As Kubernetes restarts a container whose process exited (the workflow worker's stall
        watchdog exits non-zero), start a new instance of a worker role that exited on its own."""

        def keep() -> None:
            while not self.stopping.wait(0.5):  # a supervisor's poll of its children
                with self.lock:
                    for role in WORKER_ROLES:
                        process = self.current.get(role)
                        if process is None or process.popen.poll() is None:
                            continue
                        self.restarts.append(
                            {"role": role, "exit_code": process.popen.returncode, "at": time.time()}
                        )
                        self.live.retire(process)
                        del self.current[role]
                        if not self.stopping.is_set():
                            self.start_role(role)

        thread = threading.Thread(target=keep, name="chaos-worker-keeper", daemon=True)
        thread.start()
        return thread

    def ingestion(self) -> str:
        return self.urls["ingestion"]

    def kill(self, role: str) -> int:
        """SIGKILL the role's process and its children (a node lost, the OOM killer); their
        exit code. The role has no instance until `start_role`."""
        with self.lock:
            process = self.current.pop(role)
            os.killpg(process.popen.pid, signal.SIGKILL)
            return self.retire(process)

    def replace(
        self,
        role: str,
        before_stop: Callable[[str], None] = lambda url: None,
        timeout: float = 60,
    ) -> int:
        """A rolling restart: a new instance first, then (after `before_stop(old url)`) traffic
        moves to it and the old one gets SIGTERM, as Kubernetes sends it; the old one's exit
        code."""
        with self.lock:
            old_url, old = self.urls[role], self.current[role]
            url, new = self.launch(role)
            before_stop(old_url)
            self.urls[role], self.current[role] = url, new
        old.popen.send_signal(signal.SIGTERM)
        return self.retire(old, timeout)

    def retire(self, process: Process, timeout: float = 60) -> int:
        """Wait for an ended process to exit; its exit code."""
        code = process.popen.wait(timeout)
        self.live.retire(process)
        return code


def start_system(
    tmp_path: Path,
    database_url: str,
    store_url: str,
    broker_url: str,
    drones: int,
    extra_env: dict[str, str],
) -> ChaosSystem:
    env = {
        **os.environ,
        "DEBUG": "true",
        "FABRIKAM_DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url,
        "REDIS_URL": store_url,
        "CELERY_BROKER_URL": broker_url,
        "DELIVERY_REQUESTS_QUEUE": f"deliveryrequests-chaos-{uuid.uuid4().hex[:8]}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "4",
        "PYTHONUNBUFFERED": "1",
        # one test client sends the whole load: the per-client throttle is not under test here
        "THROTTLE_CLIENT_RATE": "100000/minute",
        "THROTTLE_IP_RATE": "100000/minute",
        **extra_env,
    }
    for name in ("FABRIKAM_ROLE", "MONGODB_URI", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)  # packages on the SQL database, which the ledger reads
    manage(["migrate", "--noinput", "-v0"], env, timeout=300)
    manage(["seed_fleet", "--drones", str(drones), "--area", "47.6062,-122.3321,5"], env, 300)
    ports = {role: free_port() for role in HTTP_ROLES}
    proxy = FaultyProxy(f"http://127.0.0.1:{ports['dronescheduler']}")
    env["SERVICE_URL_PACKAGE"] = f"http://127.0.0.1:{ports['package']}"
    env["SERVICE_URL_DELIVERY"] = f"http://127.0.0.1:{ports['delivery']}"
    env["SERVICE_URL_DRONESCHEDULER"] = proxy.url
    system = ChaosSystem(LiveSystem(env, tmp_path), proxy, broker_url)
    try:
        for role in HTTP_ROLES:
            system.start_role(role, ports[role])
        for role in WORKER_ROLES:
            system.start_role(role)
        system.keep_workers_running()
    except BaseException:
        stop_system(system)
        raise
    return system


def stop_system(system: ChaosSystem) -> None:
    system.stopping.set()
    with system.lock:
        system.live.stop()
    system.proxy.close()


def wait_consuming(system: ChaosSystem, timeout: float = 90) -> None:
    """Every worker answers ready again (its consumer is connected and subscribed)."""
    for role in WORKER_ROLES:
        system.live.wait_ready(system.urls[role], timeout=timeout)
