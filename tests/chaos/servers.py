"""Servers the chaos suite owns, so that it may stop and restart them: redis-servers (the one
tests/ingestion uses, with its append-only file) and a RabbitMQ node of its own (own node name,
ports and data directory) on free loopback ports. The shared servers of a machine or CI job are
never touched."""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import redis

from tests.ingestion.servers import RedisServer
from tests.support.live import free_port, wait_until
from tests.support.tools import missing, require_tool

RABBITMQ_SBIN = Path("/usr/lib/rabbitmq/bin")


class RabbitNode:
    """A RabbitMQ node of the suite's own: its own node name, AMQP and distribution ports, Mnesia
    and log directories, no plugins; the Erlang cookie lives in its own HOME. `stop()` stops the
    RabbitMQ application (listeners close, every connection drops, as a broker restart does; the
    Erlang VM stays up so `start()` takes seconds, not the VM's boot)."""

    def __init__(self, data_dir: Path) -> None:
        server = RABBITMQ_SBIN / "rabbitmq-server"
        if not os.access(server, os.X_OK):
            missing("RabbitMQ is not installed (apt-get install rabbitmq-server)")
        require_tool("epmd", hint="part of erlang-base, installed with rabbitmq-server")
        self.dir = data_dir / "rabbitmq"
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "enabled_plugins").write_text("[].\n")
        self.port = free_port()
        self.node = f"chaos{uuid.uuid4().hex[:8]}@localhost"
        self.env = {
            **os.environ,
            "HOME": str(self.dir),  # its own .erlang.cookie
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.dir / "rabbitmq.pid"),
            # none of the machine's configuration (listeners, users) applies to this node
            "RABBITMQ_CONFIG_FILE": str(self.dir / "none"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.dir / "none.config"),
            "RABBITMQ_CONF_ENV_FILE": str(self.dir / "none-env.conf"),
        }
        self.log = (self.dir / "server.log").open("w")
        self.process = subprocess.Popen(
            [str(server)], env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        # await_startup needs the node registered with epmd first, which takes the VM a while
        try:
            wait_until(self._started, 180, f"RabbitMQ node {self.node} (log: {self.dir})", 1)
        except BaseException:
            self.shutdown()
            raise

    def _started(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"RabbitMQ exited: {(self.dir / 'server.log').read_text()}")
        try:
            self.ctl("await_startup", "--timeout", "5", timeout=30)
        except RuntimeError:
            return False
        return True

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"  # guest: loopback only

    def ctl(self, *args: str, timeout: float = 60) -> str:
        result = subprocess.run(
            [str(RABBITMQ_SBIN / "rabbitmqctl"), "-n", self.node, "-q", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode:
            raise RuntimeError(
                f"rabbitmqctl {' '.join(args)} failed: {result.stderr or result.stdout}\n"
                f"node log: {self.dir / 'log'}"
            )
        return result.stdout

    def stop(self) -> None:
        self.ctl("stop_app")

    def start(self) -> None:
        self.ctl("start_app")

    def shutdown(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self.ctl("shutdown", timeout=60)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(30)
        self.log.close()


def client(server: RedisServer) -> redis.Redis:
    return redis.Redis(port=server.port, socket_timeout=5, socket_connect_timeout=2)


@contextlib.contextmanager
def redis_server(data_dir: Path, name: str) -> Iterator[RedisServer]:
    directory = data_dir / name
    directory.mkdir(parents=True, exist_ok=True)
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def rabbitmq_node(data_dir: Path) -> Iterator[RabbitNode]:
    node = RabbitNode(data_dir)
    try:
        yield node
    finally:
        node.shutdown()
