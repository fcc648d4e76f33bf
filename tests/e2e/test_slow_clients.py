"""Slow clients (headers or body) and open tracking streams against `make run`'s shape
(`manage.py dev`, one gunicorn worker with 4 threads here): neither holds a thread, so the API and
the workflow's calls to the services over HTTP keep answering. The full-size measurement (200 slow
connections, 1,000 streams, p50/p99) is bench/slow_clients.py."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator

import pytest
import requests

from tests.e2e.conftest import delivery_request
from tests.support import auth
from tests.support.live import free_port, manage, wait_until
from tests.tracking.sse import events

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

THREADS = 4  # GUNICORN_THREADS in system_env, with one worker
SLOW_CLIENTS = 2 * THREADS  # of each kind
# Sent, and then nothing more: a request's first header line; a request's headers and a body's
# first byte (an internal write, whose view reads the body).
SLOW_HEADERS = b"GET /healthz/live HTTP/1.1\r\nHost: 127.0.0.1\r\n"
SLOW_BODY = (
    b"PUT /api/packages/pkg-slow-body HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/json\r\nContent-Length: 64\r\n\r\n{"
)
STREAMS = 3 * THREADS


@contextlib.contextmanager
def slow_clients(port: int, count: int, sent: bytes) -> Iterator[list[socket.socket]]:
    """`count` connections that sent `sent` and then nothing more."""
    held = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(sent)
            held.append(sock)
        yield held
    finally:
        for sock in held:
            sock.close()


def still_open(sock: socket.socket) -> bool:
    """True while the server has neither answered nor closed the connection."""
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)  # an answer, or b"" when closed
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)
    return False


def request_delivery(base: str, headers: dict[str, str], package_id: str) -> str:
    accepted = requests.post(
        f"{base}/api/deliveryrequests",
        json=delivery_request(package_id),
        headers=headers,
        timeout=10,
    )
    assert accepted.status_code == 202, accepted.text
    return accepted.json()["deliveryId"]


def scheduled(base: str, headers: dict[str, str], delivery_id: str) -> Callable[[], bool]:
    """Whether the workflow stored the delivery: its calls to the three services went through."""
    return lambda: (
        requests.get(f"{base}/api/deliveries/{delivery_id}", headers=headers, timeout=5).ok
    )


@pytest.fixture
def system(live):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Slow clients are held for the whole test, not closed by the header or body deadlines.
    # The workflow calls the services over HTTP, as between pods, not in-process.
    extra = {
        "GUNICORN_HEADER_TIMEOUT": "600",
        "GUNICORN_TIMEOUT": "600",
        "WORKFLOW_IN_PROCESS_CALLS": "false",
    }
    live.start("dev", ["dev", "--port", str(port), "--no-beat"], extra)
    live.wait_ready(base)
    return live, base, port


def test_slow_clients_and_open_streams_leave_the_api_and_the_workflow_answering(system):
    live, base, port = system
    contoso = {
        "Authorization": f"Bearer {manage(['issue_token', '--owner', 'contoso'], live.env).strip()}"
    }
    watched = request_delivery(base, contoso, "pkg-slow-0")
    wait_until(scheduled(base, contoso, watched), 30, "the workflow to schedule the delivery")

    with (
        slow_clients(port, SLOW_CLIENTS, SLOW_HEADERS) as slow_headers,
        slow_clients(port, SLOW_CLIENTS, SLOW_BODY) as slow_bodies,
        contextlib.ExitStack() as streams,
    ):
        opened = []
        for _ in range(STREAMS):
            stream = streams.enter_context(
                requests.get(f"{base}/api/deliveries/{watched}/stream", stream=True, timeout=10)
            )
            opened.append(stream)
        assert [s.status_code for s in opened] == [200] * STREAMS
        for stream in opened:  # each one is live: it has sent the delivery's status
            kinds = (event.event for event in events(stream.iter_content(chunk_size=None)))
            assert next(kind for kind in kinds if kind == "status") == "status"

        # Were a slow client or a stream to hold a thread, none of this would be answered.
        status = requests.get(
            f"{base}/api/deliveries/{watched}/status", headers=contoso, timeout=10
        )
        assert status.status_code == 200, status.text
        internal = requests.put(
            f"{base}/api/packages/pkg-slow-internal",
            json={"size": "Small", "weight": 1.0, "tag": "x", "ownerId": "contoso"},
            headers=auth.headers(),
            timeout=5,  # the workflow's HTTP_CLIENT_TIMEOUT
        )
        assert internal.status_code == 201, internal.text
        delivery_id = request_delivery(base, contoso, "pkg-slow-1")
        wait_until(  # the workflow's three internal calls went through
            scheduled(base, contoso, delivery_id),
            30,
            "the workflow to schedule a delivery while slow clients and streams are held",
        )
        assert all(still_open(sock) for sock in slow_headers + slow_bodies)


def test_a_client_that_never_finishes_its_headers_is_disconnected(live):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    live.start("dev", ["dev", "--port", str(port), "--no-beat"], {"GUNICORN_HEADER_TIMEOUT": "1"})
    live.wait_ready(base)
    with slow_clients(port, 1, SLOW_HEADERS) as (sock,):
        sock.settimeout(30)
        assert sock.recv(1024) == b""  # closed by the server, without an answer
    assert requests.get(f"{base}/healthz/live", timeout=5).status_code == 200
