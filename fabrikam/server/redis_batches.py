"""redis.asyncio connections for the server's event loop, whose commands go to Redis in batches:
those of the requests that start in the same turn of the loop in one write on one connection,
their replies read back in order (the fast paths: fabrikam/apps/deliveries/api/fast_status.py,
fabrikam/apps/ingestion/api/fast_requests.py)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from redis.exceptions import RedisError, ResponseError

# Sends commands in one round trip: their replies in order, an error reply as its ResponseError.
Send = Callable[[list[tuple[Any, ...]]], Awaitable[list[Any]]]


class PerLoop:
    """The `Connections` of each event loop (a test runs several loops; gunicorn's worker one),
    made by `make` on first use."""

    def __init__(self, make: Callable[[], Connections]) -> None:
        self.make = make
        self._connections: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Connections] = (
            weakref.WeakKeyDictionary()
        )

    def send(self) -> Send:
        loop = asyncio.get_running_loop()
        connections = self._connections.get(loop)
        if connections is None:
            connections = self._connections[loop] = self.make()
        return connections.send


class Connections:
    """redis.asyncio connections of one event loop. The commands of the reads that start in the
    same turn of the loop go to Redis together, in one write on one connection, and their replies
    are read back in order (redis-py's client and pipeline machinery would cost more CPU than the
    read itself: ≈ 300 against ≈ 110 µs a round trip, round six)."""

    MAX_IDLE = 16
    # Turns of the loop a batch waits for the requests still on their way (arrived in the same
    # wake-up, their tasks not run yet) while the loop has other work ready.
    GATHER_TURNS = 2

    def __init__(self, timeout: float, pool: Any) -> None:
        self.timeout = timeout  # REDIS_TIMEOUT, for a whole exchange
        self.pool = pool
        self.idle: list[Any] = []
        self.waiting: list[tuple[list[tuple[Any, ...]], asyncio.Future[list[Any]]]] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.turns = 0

    async def send(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        loop = asyncio.get_running_loop()
        answered: asyncio.Future[list[Any]] = loop.create_future()
        if not self.waiting:
            loop.call_soon(self._flush)
        self.waiting.append((commands, answered))
        return await answered

    def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        if self.turns < self.GATHER_TURNS and getattr(loop, "_ready", None):
            self.turns += 1  # one send() wakes Redis for all of them: ≈ 1/4 of a read's CPU
            loop.call_soon(self._flush)
            return
        self.turns = 0
        batch, self.waiting = self.waiting, []
        task = loop.create_task(self._exchange(batch))
        self.tasks.add(task)  # held until done (the loop keeps only a weak reference)
        task.add_done_callback(self.tasks.discard)

    async def _exchange(
        self, batch: list[tuple[list[tuple[Any, ...]], asyncio.Future[list[Any]]]]
    ) -> None:
        connection = self.idle.pop() if self.idle else self.pool.make_connection()
        try:
            async with asyncio.timeout(self.timeout):
                await connection.connect()  # at once when connected already
                flat = [c for commands, _ in batch for c in commands]
                await connection.send_packed_command(
                    packed(flat) or connection.pack_commands(flat), check_health=False
                )
                for commands, answered in batch:
                    replies = []
                    for _ in commands:
                        try:
                            replies.append(await connection.read_response())
                        except ResponseError as error:  # that command's own error
                            replies.append(error)
                    if not answered.done():  # its request may have timed out
                        answered.set_result(replies)
        except BaseException as error:  # a broken or timed-out exchange: not reused
            await connection.disconnect(nowait=True)
            failed = error if isinstance(error, Exception) else RedisError("cancelled")
            for _, answered in batch:
                if not answered.done():
                    answered.set_exception(failed)
            if not isinstance(error, Exception):
                raise
            return
        if len(self.idle) < self.MAX_IDLE:
            self.idle.append(connection)
        else:
            await connection.disconnect()


def packed(commands: list[tuple[Any, ...]]) -> list[bytes] | None:
    """The commands in RESP, as redis-py's `pack_commands` writes them for str, bytes and int
    arguments, in less than half its CPU (no encoder call and buffer juggling per argument); None
    when one has another kind of argument or a first argument redis-py would split (it packs
    those)."""
    out = []
    for command in commands:
        if " " in command[0]:
            return None
        out.append(b"*%d\r\n" % len(command))
        for arg in command:
            if isinstance(arg, str):
                arg = arg.encode()
            elif type(arg) is int:
                arg = b"%d" % arg
            elif not isinstance(arg, bytes):
                return None
            out.append(b"$%d\r\n%b\r\n" % (len(arg), arg))
    return [b"".join(out)]
