"""Starting the real system (gunicorn, Celery worker, embedded or CI Redis/PostgreSQL/RabbitMQ) as
child processes, the way `make run` or Kubernetes would, for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import psutil
import requests

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
E2E_REDIS_DB = 2  # apart from the unit tests' database, which they flush


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_url_with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}?db={db}"  # urlunsplit would drop the empty authority
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, ""))


def redis_broker_url(redis_url: str) -> str:
    """The Celery broker URL for a Redis URL (a unix socket's broker uses database 0: kombu takes
    no database number for sockets; each test system has a queue name of its own)."""
    parts = urlsplit(redis_url)
    return f"redis+socket://{parts.path}" if parts.scheme == "unix" else redis_url


def manage(args: list[str], env: dict[str, str], timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def wait_until(predicate: Callable[[], T], timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll `predicate` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (requests.RequestException, ValueError) as exc:
            last_error = exc
        time.sleep(interval)  # polling an external process: there is no event to wait on
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what} (last error: {last_error})"
    )


@contextlib.contextmanager
def database_for_processes(tmp_path: Path) -> Iterator[str]:
    """A database the child processes share: a fresh PostgreSQL database when the suite runs on
    PostgreSQL (CI), else an SQLite file."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path / 'e2e.sqlite3'}"
        return
    import psycopg

    name = f"fabrikam_e2e_{uuid.uuid4().hex[:10]}"
    parts = urlsplit(base)
    admin_url = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def mongodb_for_processes() -> Iterator[dict[str, str]]:
    """With the packages store on MongoDB (MONGODB_URI), a fresh database for the child processes,
    dropped afterwards: the environment to add. Without it, nothing to add."""
    uri = os.environ.get("MONGODB_URI", "")
    if not uri:
        yield {}
        return
    import pymongo

    name = f"fabrikam_e2e_{uuid.uuid4().hex[:10]}"
    try:
        yield {"MONGODB_DATABASE": name}
    finally:
        with pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
            client.drop_database(name)


@contextlib.contextmanager
def system_environment(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for child processes: a migrated database with a seeded fleet, the test Redis
    (own db number), a queue of their own, and embedded-default settings otherwise."""
    with database_for_processes(tmp_path) as database_url, mongodb_for_processes() as mongodb_env:
        env = {
            **os.environ,
            "DEBUG": "true",
            "FABRIKAM_DATA_DIR": str(tmp_path),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url_with_db(os.environ["REDIS_URL"], E2E_REDIS_DB),
            "DELIVERY_REQUESTS_QUEUE": f"deliveryrequests-e2e-{uuid.uuid4().hex[:8]}",
            "GUNICORN_WORKERS": "1",
            "GUNICORN_THREADS": "4",
            "PYTHONUNBUFFERED": "1",
            **mongodb_env,
        }
        env.pop("CELERY_BROKER_URL", None)  # each test picks its broker
        env.pop("FABRIKAM_ROLE", None)
        manage(["migrate", "--noinput", "-v0"], env)
        if mongodb_env:  # the packages collection and its index, as the Helm migrate Job does
            manage(["migrate", "--database", "packages", "--noinput", "-v0"], env)
        manage(["seed_fleet", "--drones", "10", "--area", "47.6062,-122.3321,5"], env)
        yield env


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class LiveSystem:
    """Processes started for a test; `stop()` ends them and their children."""

    env: dict[str, str]
    log_dir: Path
    processes: list[Process] = field(default_factory=list)
    retired: list[Process] = field(default_factory=list)

    def start(self, name: str, args: list[str], extra_env: dict[str, str] | None = None) -> Process:
        log = self.log_dir / f"{name}.log"
        handle = log.open("w")
        popen = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **(extra_env or {})},
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def wait_ready(self, base_url: str, timeout: float = 30) -> None:
        last = {"body": ""}

        def ready() -> bool:
            for process in self.processes:
                if process.popen.poll() is not None:
                    raise AssertionError(f"{process.name} exited:\n{process.output()[-3000:]}")
            response = requests.get(f"{base_url}/healthz/ready", timeout=5)
            last["body"] = response.text
            return response.status_code == 200

        try:
            wait_until(ready, timeout, f"{base_url}/healthz/ready")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nlast answer: {last['body']}\n{self.logs()}") from None

    def retire(self, process: Process) -> None:
        """Stop watching a process that was ended on purpose (its log stays in `logs()`)."""
        self.processes.remove(process)
        self.retired.append(process)

    def logs(self) -> str:
        everything = [*self.retired, *self.processes]
        return "\n".join(f"--- {p.name} ---\n{p.output()[-4000:]}" for p in everything)

    def descendants(self) -> list[psutil.Process]:
        found: list[psutil.Process] = []
        for process in self.processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                found.extend(psutil.Process(process.popen.pid).children(recursive=True))
        return found

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        for process in self.processes:
            if process.popen.poll() is None:
                process.popen.send_signal(sig)
        for process in self.processes:
            try:
                process.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait()
