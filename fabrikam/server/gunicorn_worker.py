"""The gunicorn worker of every HTTP role: gunicorn's asyncio (ASGI) worker, plus a deadline for a
connection's request headers.

Connections are read by an event loop, not by threads, so a client that sends its headers or body
slowly holds a socket and a few kilobytes, never one of the threads that run Django
(fabrikam.server.wsgi_bridge hands a request to them only once it has arrived whole). gunicorn's own
worker bounds the headers of a kept-alive connection's next request by `keepalive`, but not those
of a connection's first request: a client could trickle them forever and keep its socket (and a
file descriptor) for good. Here they must be complete within GUNICORN_HEADER_TIMEOUT seconds of
the connection being accepted, or the connection is closed.

Its event loop also shares the listening socket fairly between the workers (`SharedListenerLoop`).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import socket
from typing import Any

from django.conf import settings
from gunicorn.asgi.protocol import ASGIProtocol
from gunicorn.workers import gasgi
from gunicorn.workers.gasgi import ASGIWorker


class HeaderDeadlineProtocol(ASGIProtocol):
    """gunicorn's HTTP/1 protocol, closing a connection whose first request's headers are late."""

    _header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._count_connections()
        self._header_deadline = self.worker.loop.call_later(
            settings.GUNICORN_HEADER_TIMEOUT, self._headers_too_late
        )

    def _on_headers_complete(self) -> Any:
        self._cancel_header_deadline()
        return super()._on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)
        self._count_connections()

    def _count_connections(self) -> None:
        loop = self.worker.loop
        if isinstance(loop, SharedListenerLoop):
            loop.holding(self.worker.nr_conns)

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_late(self) -> None:
        self._header_deadline = None
        if self._current_request is not None or self._closed:
            return
        self.log.debug("closing a connection whose request headers are late")
        if self._request_ready is None:  # not yet committed to HTTP/1 (cleartext HTTP/2 sniffing)
            self._close_transport()
        else:
            self._keepalive_timeout()  # gunicorn's own "idle connection: close it"


class ConnectionShares:
    """How many connections each worker of one gunicorn holds, in memory its workers share (made
    by the arbiter before it forks them). A worker writes only its own slot, claimed at boot."""

    SLOTS = 64  # more workers than this share nothing: each accepts as it is woken

    def __init__(self) -> None:
        self.pids = multiprocessing.RawArray("i", self.SLOTS)
        self.held = multiprocessing.RawArray("i", self.SLOTS)
        self.lock = multiprocessing.Lock()

    def claim(self) -> int | None:
        """A slot for this process: a free one, or one a dead worker left."""
        with self.lock:
            for slot in range(self.SLOTS):
                if not self.pids[slot] or not _alive(self.pids[slot]):
                    self.held[slot] = 0
                    self.pids[slot] = os.getpid()
                    return slot
        return None

    def release(self, slot: int) -> None:
        with self.lock:
            if self.pids[slot] == os.getpid():
                self.pids[slot] = 0
                self.held[slot] = 0

    def fewest_besides(self, slot: int) -> int | None:
        """The fewest connections another live worker holds (None: no other worker)."""
        fewest = None
        for other in range(self.SLOTS):
            pid = self.pids[other]
            if (
                pid
                and other != slot
                and (fewest is None or self.held[other] < fewest)
                and _alive(pid)
            ):
                fewest = self.held[other]
        return fewest


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SharedListenerLoop(asyncio.SelectorEventLoop):
    """An event loop for a listening socket every worker of the pod shares.

    asyncio accepts up to `backlog` (100) waiting connections each time the socket is readable, so
    the first worker to wake takes a burst of new connections whole: `wrk`'s 8 kept-alive
    connections, or an ingress's pool, all ended up in one worker, which then served every request
    on one core (its one GIL) while the other worker idled. Here a worker accepts one connection
    per wake-up and goes back to the loop, so the workers take turns. That alone still left one
    worker with 7 or all 8 of `wrk`'s connections in about a third of the runs (round seven): the
    worker that is running sees the socket readable again before the other is scheduled at all.
    So a worker that holds more connections than another worker (`ConnectionShares`) lets the
    socket be for `YIELD_SECONDS` — the others, woken by the same readiness, accept meanwhile —
    and accepts anyway after `YIELDS` turns, should they be too busy to. asyncio also calls
    `listen()` again with its own default of 100, which would cut gunicorn's `--backlog` (2048)
    for every worker: `create_server` passes gunicorn's.
    """

    YIELD_SECONDS = 0.002
    YIELDS = 10  # at most ≈ 20 ms added to a connection's accept, only when the workers differ

    def __init__(self, listen_backlog: int, shares: ConnectionShares | None = None) -> None:
        super().__init__()
        self.listen_backlog = listen_backlog
        self.shares = shares
        self.slot: int | None = None  # claimed once this worker serves
        self.held = 0  # the protocols' count (gunicorn's nr_conns) and those accepted before it
        self._served = 0
        self._accepting = 0
        self._yielded = 0

    def holding(self, connections: int) -> None:
        """The worker's protocols hold `connections` now."""
        self._served = connections
        self._publish()

    def _publish(self) -> None:
        self.held = self._served + self._accepting
        if self.shares is not None and self.slot is not None:
            self.shares.held[self.slot] = self.held

    def _accept_connection2(self, *args: Any, **kwargs: Any) -> Any:
        # Called as the connection is accepted; its protocol counts it a few turns later.
        self._accepting += 1
        self._publish()
        return self._accepted(super()._accept_connection2(*args, **kwargs))

    async def _accepted(self, accepting: Any) -> None:
        try:
            await accepting
        finally:
            self._accepting -= 1
            self._publish()

    def close(self) -> None:
        self._release()
        super().close()

    def _stop_serving(self, sock: socket.socket) -> None:
        self._release()  # a worker shutting down accepts no more: the others must not wait for it
        super()._stop_serving(sock)

    def _release(self) -> None:
        if self.shares is not None and self.slot is not None:
            self.shares.release(self.slot)
            self.slot = None

    async def create_server(self, *args: Any, **kwargs: Any) -> asyncio.Server:
        kwargs["backlog"] = self.listen_backlog
        server = await super().create_server(*args, **kwargs)
        if self.shares is not None and self.slot is None:
            self.slot = self.shares.claim()
            self._publish()
        return server

    def _accept_connection(
        self,
        protocol_factory: Any,
        sock: socket.socket,
        sslcontext: Any = None,
        server: Any = None,
        backlog: int = 100,
        *args: Any,
    ) -> None:
        if self._yielded < self.YIELDS and self._holds_more_than_another():
            self._yielded += 1
            self._remove_reader(sock.fileno())
            self.call_later(
                self.YIELD_SECONDS,
                self._listen_again,
                protocol_factory,
                sock,
                sslcontext,
                server,
                backlog,
                *args,
            )
            return
        self._yielded = 0
        super()._accept_connection(protocol_factory, sock, sslcontext, server, 1, *args)

    def _holds_more_than_another(self) -> bool:
        if self.shares is None or self.slot is None or not self.held:
            return False
        fewest = self.shares.fewest_besides(self.slot)
        return fewest is not None and self.held > fewest

    def _listen_again(self, protocol_factory: Any, sock: socket.socket, *rest: Any) -> None:
        server = rest[1]
        if sock.fileno() == -1 or (server is not None and not server.is_serving()):
            return  # closed meanwhile
        self._add_reader(sock.fileno(), self._accept_connection, protocol_factory, sock, *rest)


class Worker(ASGIWorker):
    """`--worker-class fabrikam.server.gunicorn_worker.Worker`."""

    shares: ConnectionShares | None = None  # made in the arbiter, inherited by every worker

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # in the arbiter, before it forks this worker
        if Worker.shares is None:
            Worker.shares = ConnectionShares()

    def _setup_event_loop(self) -> None:
        # gunicorn's picks uvloop when it is installed (it is not: round five measured no gain).
        # With --reuse-port each worker has a socket of its own: nobody else accepts from it.
        shares = None if self.cfg.reuse_port else Worker.shares
        self.loop = SharedListenerLoop(self.cfg.backlog, shares)
        asyncio.set_event_loop(self.loop)

    def init_process(self) -> None:
        # gunicorn's worker builds each connection's protocol as `ASGIProtocol(self)`, looked up
        # in its module when a connection arrives: point that name at ours.
        gasgi.ASGIProtocol = HeaderDeadlineProtocol
        super().init_process()
