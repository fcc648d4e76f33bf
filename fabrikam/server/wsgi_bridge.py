"""Django (WSGI) served from an event loop: a request reaches a thread only once it has arrived.

gunicorn's asyncio worker (fabrikam.server.gunicorn_worker) reads every connection; this ASGI
application buffers a request's body (up to MAX_REQUEST_BYTES and one byte more, which is enough for
Django to refuse it) and only then runs the Django WSGI application in one of GUNICORN_THREADS
threads. A slow or stalled client therefore costs a socket, never a thread: the threads only ever
run requests that are complete.

A view that answers with an asynchronous StreamingHttpResponse (the tracking stream) gets its
headers sent from the thread's answer and its body iterated on the event loop, so a stream open for
minutes holds no thread either. Views learn that they may do so from `ASYNC_STREAMS` in the
environ; elsewhere (Django's test client, another WSGI server) they stream synchronously.

A `fast_path` may answer a request on the event loop itself, without a thread (the status reads:
fabrikam/apps/deliveries/api/fast_status.py; a delivery request's POST:
fabrikam/apps/ingestion/api/fast_requests.py). It answers only what it can answer exactly as Django
would and returns None for everything else, which then goes to Django as if it had not been asked
(with whatever it added to the environ for Django to know). It is asked about requests without a
body, and POSTs (whose body it reads from the environ's `wsgi.input` without consuming it).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from django.http import HttpResponse, StreamingHttpResponse

logger = logging.getLogger(__name__)

ASYNC_STREAMS = "fabrikam.async_streams"  # environ key: the server iterates async bodies itself

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class FastAnswer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


FastPath = Callable[[dict[str, Any]], Awaitable[FastAnswer | None]]
WITH_BODY = frozenset({"POST"})  # the methods whose requests a fast path is asked with a body


def by_method(paths: dict[str, FastPath | None]) -> FastPath | None:
    """One fast path that asks the one of the request's method (none: Django answers)."""
    chosen = {method: path for method, path in paths.items() if path is not None}
    if not chosen:
        return None

    async def fast_path(environ: dict[str, Any]) -> FastAnswer | None:
        path = chosen.get(environ["REQUEST_METHOD"])
        return None if path is None else await path(environ)

    return fast_path


class _Answer:
    """What the WSGI application answered, as the thread hands it back to the loop."""

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""
        self.async_response: StreamingHttpResponse | None = None
        self.streamed = False  # a synchronous streaming body was sent from the thread

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        self.status = int(status.split(" ", 1)[0])
        self.headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers
        ]
        return self._write

    @staticmethod
    def _write(data: bytes) -> None:
        raise NotImplementedError("the WSGI write() callable is not supported")


def _start(answer: _Answer) -> Message:
    return {"type": "http.response.start", "status": answer.status, "headers": answer.headers}


def _body(chunk: bytes, more: bool = False) -> Message:
    return {"type": "http.response.body", "body": chunk, "more_body": more}


class WSGIBridge:
    def __init__(
        self, app: WSGIApp, threads: int, max_body: int, fast_path: FastPath | None = None
    ) -> None:
        self.app = app
        self.fast_path = fast_path
        self.threads = threads
        self.max_body = max_body
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()

    @property
    def executor(self) -> ThreadPoolExecutor:
        # Made on first use, in the worker process (gunicorn forks after importing the app).
        if self._executor is None:
            with self._executor_lock:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="django")
        return self._executor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":  # no websockets here
            return
        body = await self._read_body(receive)
        if body is None:
            return  # the client went away before its request was complete
        environ = self._environ(scope, body)
        if self.fast_path is not None and (not body or scope["method"] in WITH_BODY):
            try:
                fast = await self.fast_path(environ)
            except Exception:  # a bug there must not cost the request: Django answers it
                logger.exception("the fast path failed on %s; Django answers", environ["PATH_INFO"])
                fast = None
            if fast is not None:
                await send(
                    {"type": "http.response.start", "status": fast.status, "headers": fast.headers}
                )
                await send(_body(fast.body))
                return
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(self.executor, self._run, environ, send, loop)
        if answer.async_response is not None:
            await self._stream(answer, receive, send)
        elif not answer.streamed:
            await send(_start(answer))
            await send(_body(answer.body))

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or its first max_body + 1 bytes (Django then refuses it as too big)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_body or not message.get("more_body", False):
                return b"".join(chunks)[: self.max_body + 1]

    def _environ(self, scope: Scope, body: bytes) -> dict[str, Any]:
        server = scope.get("server") or ("localhost", 80)
        client = scope.get("client") or ("", 0)
        raw_path = scope.get("raw_path") or scope["path"].encode()
        environ: dict[str, Any] = {
            "REQUEST_METHOD": scope["method"],
            "SCRIPT_NAME": scope.get("root_path", ""),
            "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
            "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
            "SERVER_NAME": str(server[0]),
            "SERVER_PORT": str(server[1]),
            "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
            "REMOTE_ADDR": str(client[0]),
            "REMOTE_PORT": str(client[1]),
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.get("scheme", "http"),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            # whole and de-chunked (see fabrikam.server.chunked_bodies)
            "wsgi.input_terminated": True,
            ASYNC_STREAMS: True,
        }
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1")
            if "_" in name:
                continue  # as gunicorn does: X_Forwarded_For must not pose as X-Forwarded-For
            value = raw_value.decode("latin-1")
            if name == "content-type":
                environ["CONTENT_TYPE"] = value
                continue
            if name == "content-length":
                continue  # the body is buffered: its real length is above
            key = "HTTP_" + name.upper().replace("-", "_")
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _run(self, environ: dict[str, Any], send: Send, loop: asyncio.AbstractEventLoop) -> _Answer:
        """In a thread: call Django and collect (or stream) its answer."""
        answer = _Answer()
        result = self.app(environ, answer.start_response)
        if isinstance(result, StreamingHttpResponse) and result.is_async:
            answer.async_response = result  # its body is iterated on the loop; closed there
            return answer
        try:
            if isinstance(result, HttpResponse):
                answer.body = result.content
                if not any(name == b"content-length" for name, _ in answer.headers):
                    answer.headers.append((b"content-length", str(len(answer.body)).encode()))
            else:  # a synchronous stream (a file): sent chunk by chunk from here
                answer.streamed = True
                self._send_from_thread(
                    loop,
                    send,
                    {
                        "type": "http.response.start",
                        "status": answer.status,
                        "headers": answer.headers,
                    },
                )
                for chunk in result:
                    if chunk:
                        self._send_from_thread(
                            loop,
                            send,
                            {"type": "http.response.body", "body": chunk, "more_body": True},
                        )
                self._send_from_thread(loop, send, {"type": "http.response.body", "body": b""})
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return answer

    @staticmethod
    def _send_from_thread(loop: asyncio.AbstractEventLoop, send: Send, message: Message) -> None:
        asyncio.run_coroutine_threadsafe(send(message), loop).result()

    async def _stream(self, answer: _Answer, receive: Receive, send: Send) -> None:
        """Send an asynchronous body until it ends or the client goes away."""
        response = answer.async_response
        assert response is not None
        body = asyncio.ensure_future(self._send_body(answer, response, send))
        gone = asyncio.ensure_future(self._client_gone(receive))
        try:
            await asyncio.wait({body, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (body, gone):
                task.cancel()
            await asyncio.gather(body, gone, return_exceptions=True)
            # Django's close(): the request_finished signal and the body's own close().
            await asyncio.get_running_loop().run_in_executor(self.executor, response.close)

    @staticmethod
    async def _send_body(answer: _Answer, response: StreamingHttpResponse, send: Send) -> None:
        await send(_start(answer))
        with contextlib.suppress(OSError):  # the client went away mid-write
            async for chunk in response.streaming_content:
                await send(_body(chunk, more=True))
            await send(_body(b""))

    @staticmethod
    async def _client_gone(receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._executor is not None:
                    self._executor.shutdown(wait=False)
                await send({"type": "lifespan.shutdown.complete"})
                return
