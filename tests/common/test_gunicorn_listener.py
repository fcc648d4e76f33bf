"""Every gunicorn worker of an HTTP role shares one listening socket (`SharedListenerLoop` in
fabrikam.server.gunicorn_worker): a worker takes one waiting connection each time the socket wakes
it, leaving the rest to the other workers, and the socket keeps gunicorn's backlog."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import Iterator

import pytest

from fabrikam.server.gunicorn_worker import SharedListenerLoop


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.create_server(("127.0.0.1", 0), backlog=64)
    sock.setblocking(False)
    yield sock
    sock.close()


def waiting(listener: socket.socket) -> int:
    """Accept, and count, the connections still waiting on the socket."""
    count = 0
    while True:
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


@pytest.mark.parametrize(
    ("loop_class", "left_for_the_others"),
    [(asyncio.SelectorEventLoop, 0), (SharedListenerLoop, 2)],
    ids=["asyncio-takes-them-all", "ours-takes-one"],
)
def test_a_wake_up_takes_one_waiting_connection_and_leaves_the_rest(
    listener, loop_class, left_for_the_others
):
    loop = loop_class(64) if loop_class is SharedListenerLoop else loop_class()
    clients = [socket.create_connection(listener.getsockname()) for _ in range(3)]
    try:
        # What the loop runs when the listening socket is readable (gunicorn's other workers are
        # woken by the same readiness and accept what this one leaves).
        loop._accept_connection(asyncio.Protocol, listener)
        loop.run_until_complete(asyncio.sleep(0.01))  # the accepted connection's transport is made
        assert waiting(listener) == left_for_the_others
    finally:
        for client in clients:
            client.close()
        loop.close()


def listen_backlog(port: int) -> int:
    """The listening socket's backlog as the kernel has it (`ss`: Send-Q of a LISTEN socket)."""
    line = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(line[2])


def test_the_listening_socket_keeps_gunicorns_backlog(listener):
    loop = SharedListenerLoop(2048)
    try:
        server = loop.run_until_complete(loop.create_server(asyncio.Protocol, sock=listener))
        # asyncio's own create_server would listen() again with 100 for every worker.
        assert listen_backlog(listener.getsockname()[1]) == 2048
        server.close()
    finally:
        loop.close()
