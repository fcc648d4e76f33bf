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
        self._header_deadline = self.worker.loop.call_later(
            settings.GUNICORN_HEADER_TIMEOUT, self._headers_too_late
        )

    def _on_headers_complete(self) -> Any:
        self._cancel_header_deadline()
        return super()._on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

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


class SharedListenerLoop(asyncio.SelectorEventLoop):
    """An event loop for a listening socket every worker of the pod shares.

    asyncio accepts up to `backlog` (100) waiting connections each time the socket is readable, so
    the first worker to wake takes a burst of new connections whole: `wrk`'s 8 kept-alive
    connections, or an ingress's pool, all ended up in one worker, which then served every request
    on one core (its one GIL) while the other worker idled. Here a worker accepts one connection
    per wake-up and goes back to the loop, so the workers take turns, and a busy worker, slower to
    come back, takes fewer. asyncio also calls `listen()` again with its own default of 100, which
    would cut gunicorn's `--backlog` (2048) for every worker: `create_server` passes gunicorn's.
    """

    def __init__(self, listen_backlog: int) -> None:
        super().__init__()
        self.listen_backlog = listen_backlog

    async def create_server(self, *args: Any, **kwargs: Any) -> asyncio.Server:
        kwargs["backlog"] = self.listen_backlog
        return await super().create_server(*args, **kwargs)

    def _accept_connection(
        self,
        protocol_factory: Any,
        sock: socket.socket,
        sslcontext: Any = None,
        server: Any = None,
        backlog: int = 100,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super()._accept_connection(protocol_factory, sock, sslcontext, server, 1, *args, **kwargs)


class Worker(ASGIWorker):
    """`--worker-class fabrikam.server.gunicorn_worker.Worker`."""

    def _setup_event_loop(self) -> None:
        # gunicorn's picks uvloop when it is installed (it is not: round five measured no gain).
        self.loop = SharedListenerLoop(self.cfg.backlog)
        asyncio.set_event_loop(self.loop)

    def init_process(self) -> None:
        # gunicorn's worker builds each connection's protocol as `ASGIProtocol(self)`, looked up
        # in its module when a connection arrives: point that name at ours.
        gasgi.ASGIProtocol = HeaderDeadlineProtocol
        super().init_process()
