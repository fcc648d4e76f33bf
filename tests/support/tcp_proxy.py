"""A TCP proxy a test controls, to put a real network fault between a client and a real server.

`stop()` closes the listening socket and every connection (the server looks down: connections are
refused), `start()` listens again on the same port, and `stall()` keeps connections open but stops
forwarding bytes (the server looks hung: clients wait until their own timeouts).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
from collections.abc import Iterator


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int, port: int = 0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = port
        self._listener: socket.socket | None = None
        self._pairs: dict[socket.socket, socket.socket] = {}
        self._held: list[socket.socket] = []  # accepted while stalled, never answered
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._stalled = False
        self._running = True
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._loop, name="tcp-proxy", daemon=True)
        self._thread.start()
        self.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        """Listen (again) on the proxy's port and forward to the upstream server."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.setblocking(False)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._stalled = False
            self._listener = listener
            self._selector.register(listener, selectors.EVENT_READ)
        self._wake()

    def stop(self) -> None:
        """Refuse new connections and reset the open ones, as a server that went down."""
        with self._lock:
            if self._listener is not None:
                self._selector.unregister(self._listener)
                self._listener.close()
                self._listener = None
            for sock in list(self._pairs):
                self._drop(sock)
            for sock in self._held:
                _reset(sock)
            self._held.clear()
        self._wake()

    def stall(self) -> None:
        """Accept and keep connections but forward nothing, as a server that hangs."""
        with self._lock:
            self._stalled = True
            for sock in self._pairs:
                with contextlib.suppress(KeyError, ValueError):
                    self._selector.unregister(sock)
        self._wake()

    def close(self) -> None:
        self.stop()
        self._running = False
        self._wake()
        self._thread.join(5)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _drop(self, sock: socket.socket) -> None:
        peer = self._pairs.pop(sock, None)
        for each in (sock, peer):
            if each is None:
                continue
            self._pairs.pop(each, None)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(each)
            _reset(each)

    def _accept(self, listener: socket.socket) -> None:
        client, _ = listener.accept()
        if self._stalled:
            self._held.append(client)
            return
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            client.close()
            return
        for sock in (client, server):
            sock.setblocking(False)
        self._pairs[client] = server
        self._pairs[server] = client
        self._selector.register(client, selectors.EVENT_READ)
        self._selector.register(server, selectors.EVENT_READ)

    def _forward(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        peer = self._pairs.get(sock)
        if not data or peer is None:
            self._drop(sock)
            return
        try:
            peer.setblocking(True)
            peer.sendall(data)
            peer.setblocking(False)
        except OSError:
            self._drop(sock)

    def _loop(self) -> None:
        while self._running:
            for key, _ in self._selector.select(timeout=1):
                sock = key.fileobj
                if sock is self._wake_r:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(1024)
                    continue
                with self._lock:
                    if sock is self._listener:
                        self._accept(sock)  # type: ignore[arg-type]
                    elif sock in self._pairs:
                        self._forward(sock)  # type: ignore[arg-type]


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset rather than a clean FIN, as a crashed server would."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@contextlib.contextmanager
def proxy_to(host: str, port: int) -> Iterator[TcpProxy]:
    proxy = TcpProxy(host, port)
    try:
        yield proxy
    finally:
        proxy.close()
