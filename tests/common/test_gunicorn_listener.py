"""Every gunicorn worker of an HTTP role shares one listening socket (`SharedListenerLoop` in
fabrikam.server.gunicorn_worker): a worker takes one waiting connection each time the socket wakes
it, leaving the rest to the other workers, one that holds more connections than another lets the
others accept first, and the socket keeps gunicorn's backlog."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections import Counter
from collections.abc import Iterator

import pytest

from fabrikam.runtime import processes
from fabrikam.server.gunicorn_worker import ConnectionShares, SharedListenerLoop
from tests.support.live import ROOT, free_port, wait_until


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.create_server(("127.0.0.1", 0), backlog=64)
    sock.setblocking(False)
    yield sock
    sock.close()


async def accepted() -> None:
    """The loop's accepts under way (each makes its connection's transport), done."""
    await asyncio.gather(*(t for t in asyncio.all_tasks() if t is not asyncio.current_task()))


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
        loop.run_until_complete(accepted())  # the accepted connections' transports
        assert waiting(listener) == left_for_the_others
    finally:
        for client in clients:
            client.close()
        loop.close()


def test_a_worker_holding_more_than_another_leaves_it_the_connection_for_a_while(listener):
    shares = ConnectionShares()  # as gunicorn's arbiter makes it for its workers
    busy, idle = SharedListenerLoop(64, shares), SharedListenerLoop(64, shares)
    busy.slot, idle.slot = shares.claim(), shares.claim()
    busy.holding(1)
    clients = [socket.create_connection(listener.getsockname()) for _ in range(2)]
    try:
        for _ in range(SharedListenerLoop.YIELDS):  # the other worker, woken too, takes them
            busy._accept_connection(asyncio.Protocol, listener)
            assert busy.held == 1  # nothing accepted
        # … unless it does not within YIELDS turns: then the busy one accepts one after all.
        busy._accept_connection(asyncio.Protocol, listener)
        assert busy.held == 2
        assert waiting(listener) == 1
        busy.run_until_complete(accepted())  # the accepted connection's transport
    finally:
        for client in clients:
            client.close()
        busy.close()
        idle.close()


def test_a_worker_that_stops_serving_is_not_waited_for(listener):
    shares = ConnectionShares()
    leaving, staying = SharedListenerLoop(64, shares), SharedListenerLoop(64, shares)
    try:
        server = leaving.run_until_complete(leaving.create_server(asyncio.Protocol, sock=listener))
        staying.slot = shares.claim()
        staying.holding(1)
        assert staying._holds_more_than_another()  # the leaving worker holds none
        server.close()  # as gunicorn's worker does when it shuts down
        assert not staying._holds_more_than_another()
    finally:
        leaving.close()
        staying.close()


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


@pytest.fixture
def two_workers(tmp_path) -> Iterator[int]:
    """gunicorn with two of our workers on a free port, once both serve."""
    port = free_port()
    command = processes.gunicorn("127.0.0.1", port, 2)
    command[command.index("fabrikam.asgi:application")] = "tests.support.pid_app:application"
    config = command.index("--config")
    del command[config : config + 2]
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: both_serve(port), 30, "both workers serving")
        yield port
    finally:
        server.terminate()
        server.wait(30)


def both_serve(port: int) -> bool:
    try:
        return len(set(pids_of(open_connections(port, 2)))) == 2
    except OSError:  # not listening yet
        return False


def open_connections(port: int, count: int) -> list[socket.socket]:
    """`count` connections, all made before any request is sent on them (as `wrk` makes them)."""
    return [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]


def pids_of(connections: list[socket.socket]) -> list[int]:
    """The worker holding each connection (its pid, answered on that connection); then closed."""
    for conn in connections:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
    pids = []
    for conn in connections:
        with conn, conn.makefile("rb") as answer:
            while answer.readline() not in (b"\r\n", b""):
                pass  # the headers (content-length is the pid's digits, read to the end below)
            pids.append(int(answer.read1(32)))
    return pids


def held_by_workers(port: int) -> int:
    """Connections a worker holds still (`ss`: established ones on the server's side)."""
    out = subprocess.run(
        ["ss", "-tnH", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return len(out.splitlines())


def test_kept_alive_connections_are_spread_over_the_workers(two_workers):
    # wrk's 8 connections, or an ingress's pool: before the workers shared their counts, one
    # worker took 7 or 8 of them in a third of such rounds, and served them all on one core.
    for _ in range(4):
        held = Counter(pids_of(open_connections(two_workers, 8)))
        assert len(held) == 2, held
        assert min(held.values()) >= 3, held
        wait_until(lambda: held_by_workers(two_workers) == 0, 10, "the connections closed")
