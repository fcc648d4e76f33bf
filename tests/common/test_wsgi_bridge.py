"""fabrikam.server.wsgi_bridge: Django gets a request only once it has arrived, as a WSGI server
would give it; an asynchronous streaming answer is sent from the event loop and closed when the
client goes away. Driven through the ASGI interface, as gunicorn's asyncio worker calls it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse

from fabrikam.server.wsgi_bridge import ASYNC_STREAMS, WSGIBridge

MAX_BODY = 16


def scope(headers: list[tuple[bytes, bytes]], method: str = "POST") -> dict[str, Any]:
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/echo",
        "raw_path": b"/echo",
        "query_string": b"a=1",
        "root_path": "",
        "headers": headers,
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.2", 50000),
    }


def echo(environ: dict[str, Any], start_response: Any) -> HttpResponse:
    """A WSGI app answering what it was given."""
    seen = {
        "body": environ["wsgi.input"].read().decode(),
        "length": environ["CONTENT_LENGTH"],
        "forwarded": environ.get("HTTP_X_FORWARDED_FOR"),
        "async_streams": environ[ASYNC_STREAMS],
        "path": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "remote": environ["REMOTE_ADDR"],
    }
    response = HttpResponse(json.dumps(seen), content_type="application/json")
    start_response("200 OK", list(response.items()))
    return response


async def call(
    app: WSGIBridge, request_scope: dict[str, Any], messages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Feed `messages` one by one (then wait for ever, like a connection still open) and collect
    what the application sends."""
    incoming = list(messages)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            await asyncio.sleep(0)  # the client's pieces arrive on later turns of the loop
            return incoming.pop(0)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(request_scope, receive, send)
    return sent


def answer_of(sent: list[dict[str, Any]]) -> dict[str, Any]:
    return json.loads(b"".join(m.get("body", b"") for m in sent[1:]))


def test_django_gets_a_body_that_came_in_pieces_whole_with_its_length():
    app = WSGIBridge(echo, threads=2, max_body=MAX_BODY)
    pieces = [
        {"type": "http.request", "body": b"abc", "more_body": True},
        {"type": "http.request", "body": b"def", "more_body": True},
        {"type": "http.request", "body": b"g", "more_body": False},
    ]
    sent = asyncio.run(call(app, scope([(b"transfer-encoding", b"chunked")]), pieces))
    assert sent[0]["status"] == 200
    seen = answer_of(sent)
    assert (seen["body"], seen["length"]) == ("abcdefg", "7")
    assert (seen["path"], seen["query"], seen["remote"]) == ("/echo", "a=1", "127.0.0.2")
    assert seen["async_streams"] is True
    assert (b"content-length", str(len(sent[1]["body"])).encode()) in sent[0]["headers"]


def test_a_body_over_the_limit_reaches_django_one_byte_too_long_so_it_refuses_it():
    app = WSGIBridge(echo, threads=2, max_body=MAX_BODY)
    flood = [{"type": "http.request", "body": b"x" * 10, "more_body": True}] * 5
    seen = answer_of(asyncio.run(call(app, scope([]), flood)))
    assert seen["length"] == str(MAX_BODY + 1)  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE check


def test_a_header_with_an_underscore_cannot_pose_as_one_with_a_dash():
    app = WSGIBridge(echo, threads=2, max_body=MAX_BODY)
    headers = [(b"x_forwarded_for", b"6.6.6.6"), (b"x-forwarded-for", b"10.0.0.1")]
    done = [{"type": "http.request", "body": b"", "more_body": False}]
    assert answer_of(asyncio.run(call(app, scope(headers), done)))["forwarded"] == "10.0.0.1"


def test_a_client_gone_before_its_request_was_complete_never_reaches_django():
    called = []

    def app(environ: dict[str, Any], start_response: Any) -> HttpResponse:
        called.append(environ)
        return echo(environ, start_response)

    bridge = WSGIBridge(app, threads=2, max_body=MAX_BODY)
    gone = [
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.disconnect"},
    ]
    assert asyncio.run(call(bridge, scope([]), gone)) == []
    assert called == []


def test_an_async_stream_is_sent_from_the_loop_and_closed_when_the_client_goes_away():
    closed = []

    async def forever() -> AsyncIterator[bytes]:
        yield b"first\n"
        await asyncio.Event().wait()  # a stream with nothing more to say for now
        yield b"never\n"

    def app(environ: dict[str, Any], start_response: Any) -> StreamingHttpResponse:
        response = StreamingHttpResponse(forever(), content_type="text/event-stream")
        response._resource_closers.append(lambda: closed.append(True))
        start_response("200 OK", list(response.items()))
        return response

    bridge = WSGIBridge(app, threads=1, max_body=MAX_BODY)
    sent: list[dict[str, Any]] = []
    first_chunk = asyncio.Event()
    hang_up = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if not sent and not first_chunk.is_set():
            return {"type": "http.request", "body": b"", "more_body": False}
        await hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message.get("body"):
            first_chunk.set()

    async def scenario() -> None:
        served = asyncio.ensure_future(bridge(scope([], method="GET"), receive, send))
        await first_chunk.wait()
        hang_up.set()
        await served

    asyncio.run(scenario())
    assert [m.get("body") for m in sent] == [None, b"first\n"]
    assert closed == [True]  # Django's close(): request_finished and the body's own close()
