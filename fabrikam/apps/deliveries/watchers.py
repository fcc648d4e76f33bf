"""Customers watching a delivery live (the tracking page's stream): how many streams this process
serves at once, and a subscription that says when a delivery changed.

Under the project's server (fabrikam.server.gunicorn_worker) a stream lives on the event loop:
`LiveWatch` waits on `CHANGES`, one Redis pub/sub connection per process shared by every stream, and
streams are capped by TRACKING_MAX_STREAMS (sockets, not threads). Under any other WSGI server a
stream holds a thread (`DeliveryWatch`, a pub/sub connection of its own), so there it is also capped
below the thread count (`threaded_stream_limit`): API calls and health probes always find a free
thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

from fabrikam.apps.deliveries import repository, selectors
from fabrikam.apps.deliveries.exceptions import TrackingUnavailable
from fabrikam.apps.deliveries.records import DeliveryStatus, TrackingEvent
from fabrikam.apps.deliveries.stages import CLOSED_STAGES


class StreamSlots:
    """A per-process count of open streams that never goes past its limit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_use = 0

    @property
    def in_use(self) -> int:
        return self._in_use

    def take(self, limit: int) -> bool:
        with self._lock:
            if self._in_use >= limit:
                return False
            self._in_use += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self._in_use = max(0, self._in_use - 1)


SLOTS = StreamSlots()  # streams that hold a thread
LIVE_SLOTS = StreamSlots()  # streams on the event loop

logger = logging.getLogger(__name__)


def threaded_stream_limit() -> int:
    return min(settings.TRACKING_MAX_STREAMS, max(1, settings.GUNICORN_THREADS // 2))


@dataclass(frozen=True)
class Snapshot:
    """What changed since the last read: the new events (with their offsets) and the status."""

    events: list[tuple[int, TrackingEvent]]
    status: DeliveryStatus

    @property
    def closed(self) -> bool:
        return self.status.stage in CLOSED_STAGES


class DeliveryWatch:
    """Subscribed to one delivery's changes from `next_event` (an events-list offset) on.

    Subscribe first, then read: Redis has confirmed the subscription before the first read, so a
    change between the two is both in the read and in a message, never in neither."""

    def __init__(self, delivery_id: str, next_event: int = 0) -> None:
        self.delivery_id = delivery_id
        self.next_event = next_event
        try:
            self._pubsub: Any = repository.subscribe(delivery_id)
        except (RedisError, TimeoutError) as exc:
            raise TrackingUnavailable(f"Live tracking is unavailable: {exc}") from exc

    def read(self) -> Snapshot:
        """The events from `next_event` on and the current status (DeliveryNotFound if gone)."""
        snapshot = read_snapshot(self.delivery_id, self.next_event)
        self.next_event += len(snapshot.events)
        return snapshot

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds for a change; True when there was one. Drains every
        message already waiting, since one read covers them all."""
        changed = False
        message = self._pubsub.get_message(timeout=timeout)
        while message is not None:
            changed = changed or message["type"] == "message"
            message = self._pubsub.get_message(timeout=0)
        return changed

    def close(self) -> None:
        self._pubsub.close()


def read_snapshot(delivery_id: str, next_event: int) -> Snapshot:
    status = selectors.delivery_status(delivery_id)
    fresh = repository.events(delivery_id, next_event)
    return Snapshot(list(enumerate(fresh, next_event)), status)


class Changes:
    """One pub/sub connection for every delivery watched on this process's event loop.

    A reader task owns the connection: it sends the (un)subscriptions asked for since its last
    turn, then waits up to POLL_SECONDS for a message, so no two coroutines ever use the connection
    at once. Each watched channel has the asyncio.Events of its watchers, set on every message; a
    watcher's subscription is confirmed by Redis before `watch` returns (as for DeliveryWatch).
    A message sets its watchers' `changed` and stamps them with when it came (`changed_at`)."""

    POLL_SECONDS = 0.05

    def __init__(self) -> None:
        self._reset(None)

    def _reset(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self._loop = loop
        self._watchers: dict[str, set[LiveWatch]] = {}
        self._confirmed: dict[str, asyncio.Future[None]] = {}
        self._to_subscribe: set[str] = set()
        self._to_unsubscribe: set[str] = set()
        self._reader: asyncio.Task[None] | None = None
        self.lost: set[LiveWatch] = set()  # watchers whose subscription went with Redis

    async def watch(self, channel: str, watcher: LiveWatch, timeout: float = 5.0) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first use, or a new loop (tests): start afresh
            self._reset(loop)
        self._watchers.setdefault(channel, set()).add(watcher)
        self._to_unsubscribe.discard(channel)
        confirmed = self._confirmed.get(channel)
        if confirmed is None:
            confirmed = self._confirmed[channel] = loop.create_future()
            self._to_subscribe.add(channel)
        if self._reader is None or self._reader.done():
            self._reader = loop.create_task(self._read())
        try:
            await asyncio.wait_for(asyncio.shield(confirmed), timeout)
        except BaseException:
            self.unwatch(channel, watcher)
            raise

    def unwatch(self, channel: str, watcher: LiveWatch) -> None:
        self.lost.discard(watcher)
        watchers = self._watchers.get(channel)
        if watchers is None:
            return
        watchers.discard(watcher)
        if not watchers:
            del self._watchers[channel]
            self._confirmed.pop(channel, None)
            self._to_subscribe.discard(channel)
            self._to_unsubscribe.add(channel)

    async def _read(self) -> None:
        client = repository.async_client()
        pubsub = client.pubsub()
        try:
            while self._watchers or self._to_unsubscribe:
                if self._to_unsubscribe:
                    channels, self._to_unsubscribe = self._to_unsubscribe, set()
                    await pubsub.unsubscribe(*channels)
                if self._to_subscribe:
                    channels, self._to_subscribe = self._to_subscribe, set()
                    await pubsub.subscribe(*channels)
                message = await pubsub.get_message(timeout=self.POLL_SECONDS)
                if message is not None:
                    self._dispatch(message)
        except (RedisError, OSError) as exc:
            logger.warning("lost Redis under %d live streams: %s", len(self._watchers), exc)
            self._drop_everyone(exc)
        finally:
            # Before the first await: a watch() from now on starts a reader of its own.
            self._reader = None
            await pubsub.aclose()
            await client.aclose()

    def _dispatch(self, message: dict[str, Any]) -> None:
        channel = message["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else channel
        if message["type"] == "subscribe":
            confirmed = self._confirmed.get(channel)
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(None)
        elif message["type"] == "message":
            now = time.monotonic()
            for watcher in self._watchers.get(channel, ()):
                watcher.changed_at = now
                watcher.changed.set()

    def _drop_everyone(self, exc: Exception) -> None:
        for confirmed in self._confirmed.values():
            if not confirmed.done():
                confirmed.set_exception(TrackingUnavailable(f"Live tracking is unavailable: {exc}"))
        for watchers in self._watchers.values():
            for watcher in watchers:
                self.lost.add(watcher)
                watcher.changed.set()
        self._watchers.clear()
        self._confirmed.clear()
        self._to_subscribe.clear()
        self._to_unsubscribe.clear()


CHANGES = Changes()


class LiveWatch:
    """DeliveryWatch's subscription for the event loop: waits on CHANGES (the stream reads).

    `changed_at`: a read that started at or after it has every change this watch was told of."""

    def __init__(self, delivery_id: str) -> None:
        self._channel = repository.channel(delivery_id)
        self.changed = asyncio.Event()
        self.changed_at = 0.0

    async def open(self) -> None:
        try:
            await CHANGES.watch(self._channel, self)
        except TimeoutError as exc:
            raise TrackingUnavailable("Redis did not confirm the subscription") from exc
        self.changed_at = time.monotonic()  # subscribed: a read from now on misses nothing

    async def wait(self, timeout: float) -> bool:
        """Up to `timeout` seconds for a change; True when there was one. RedisError when the
        subscription was lost (the stream ends; the browser reconnects and resumes)."""
        try:
            await asyncio.wait_for(self.changed.wait(), timeout)
        except TimeoutError:
            return False
        self.changed.clear()
        if self in CHANGES.lost:
            raise RedisError("the live-tracking subscription was lost")
        return True

    def close(self) -> None:
        CHANGES.unwatch(self._channel, self)
