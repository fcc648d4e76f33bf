"""GET /api/deliveries/{id}/stream: Server-Sent Events of a delivery's status for the tracking page.

The stream sends, in this order: a `retry` hint, every tracking event from the resume point
(`event: tracking`, `id:` its offset in the delivery's events, so a reconnecting EventSource's
`Last-Event-ID` resumes after it), and the status (`event: status`, the body of `GET .../status`).
Then each change as it happens, a `: keep-alive` comment when nothing happened for
TRACKING_KEEPALIVE_SECONDS, and finally `event: end` once the delivery is completed or cancelled.
A stream lasts at most TRACKING_STREAM_MAX_SECONDS; the browser then reconnects and resumes.

`LiveEventStream` sends the same events from the server's event loop (fabrikam.server.wsgi_bridge),
where a stream holds a socket but no thread; `EventStream` is the same stream for any other WSGI
server, where it holds a thread for its whole life.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

from fabrikam.apps.deliveries.api.serializers import (
    DeliveryEventSerializer,
    DeliveryStatusSerializer,
)
from fabrikam.apps.deliveries.exceptions import (
    DeliveryNotFound,
    TooManyStreams,
    TrackingUnavailable,
)
from fabrikam.apps.deliveries.watchers import (
    LIVE_SLOTS,
    SLOTS,
    DeliveryWatch,
    LiveWatch,
    Snapshot,
    StreamSlots,
    read_snapshot,
    threaded_stream_limit,
)

logger = logging.getLogger(__name__)
RECONNECT_MILLISECONDS = 2000
TIME_LIMIT_REACHED = b": stream time limit reached; reconnect to resume\n\n"
KEEP_ALIVE = b": keep-alive\n\n"


def sse(event: str, data: Any, event_id: int | None = None) -> str:
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines += [f"event: {event}", "data: " + json.dumps(data, separators=(",", ":"))]
    return "\n".join(lines) + "\n\n"


def take_slot(slots: StreamSlots, limit: int, delivery_id: str) -> None:
    if not slots.take(limit):
        raise TooManyStreams(
            f"This server already streams to {limit} watchers; poll "
            f"/api/deliveries/{delivery_id}/status instead, or retry later.",
            retry_after=settings.TRACKING_RETRY_AFTER_SECONDS,
        )


class EventStream:
    """The response body: an iterable that holds a stream slot and a subscription until `close()`
    (which Django calls when the response ends, also when the client went away)."""

    def __init__(self, delivery_id: str, next_event: int) -> None:
        take_slot(SLOTS, threaded_stream_limit(), delivery_id)
        try:
            self.watch = DeliveryWatch(delivery_id, next_event)
        except BaseException:
            SLOTS.give_back()
            raise
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        deadline = time.monotonic() + settings.TRACKING_STREAM_MAX_SECONDS
        yield f"retry: {RECONNECT_MILLISECONDS}\n\n".encode()
        last_status: dict[str, Any] | None = None
        changed = True
        while True:
            if changed:
                try:
                    snapshot = self.watch.read()
                except DeliveryNotFound:
                    self.close()
                    yield sse("end", {"stage": None, "reason": "not-found"}).encode()
                    return
                except RedisError:
                    logger.warning("lost Redis while streaming %s", self.watch.delivery_id)
                    return  # the browser reconnects and resumes from its last event id
                text, last_status = self._render(snapshot, last_status)
                if text:
                    yield text.encode()
                if snapshot.closed:
                    # Free the slot before the last event: a client may reconnect as soon as it
                    # reads it, before the server has finished closing this response.
                    self.close()
                    yield sse("end", {"stage": snapshot.status.stage.value}).encode()
                    return
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                yield TIME_LIMIT_REACHED
                return
            try:
                changed = self.watch.wait(min(settings.TRACKING_KEEPALIVE_SECONDS, left))
            except RedisError:
                logger.warning("lost Redis while streaming %s", self.watch.delivery_id)
                return
            if not changed:
                yield KEEP_ALIVE

    @staticmethod
    def _render(
        snapshot: Snapshot, last_status: dict[str, Any] | None
    ) -> tuple[str, dict[str, Any] | None]:
        parts = [
            sse("tracking", DeliveryEventSerializer(event).data, offset)
            for offset, event in snapshot.events
        ]
        status = dict(DeliveryStatusSerializer(snapshot.status).data)
        if status != last_status:
            parts.append(sse("status", status))
        return "".join(parts), status

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.watch.close()
            SLOTS.give_back()


@dataclass(frozen=True)
class Rendered:
    """A snapshot as every stream of it sends it: its events' text, and its status (as data, to
    tell whether it changed for a given stream, and as text)."""

    events: str
    status: dict[str, Any]
    status_text: str
    closed: bool
    stage: str
    count: int  # events in `events`


def _read_rendered(delivery_id: str, next_event: int) -> Rendered:
    """In a thread: read and serialize, once for every stream waiting on the same change."""
    snapshot = read_snapshot(delivery_id, next_event)
    status = dict(DeliveryStatusSerializer(snapshot.status).data)
    return Rendered(
        events="".join(
            sse("tracking", DeliveryEventSerializer(event).data, offset)
            for offset, event in snapshot.events
        ),
        status=status,
        status_text=sse("status", status),
        closed=snapshot.closed,
        stage=snapshot.status.stage.value,
        count=len(snapshot.events),
    )


_reads: dict[tuple[str, int], tuple[float, asyncio.Task[Rendered]]] = {}


async def shared_read(delivery_id: str, next_event: int, not_before: float) -> Rendered:
    """The snapshot from `next_event` on, read at `not_before` or later. A change wakes every
    stream of the delivery at once (with the same `not_before`): those at the same point share one
    read and its serialization, made in a thread off the event loop."""
    key = (delivery_id, next_event)
    started, task = _reads.get(key, (0.0, None))
    if task is None or started < not_before or task.get_loop() is not asyncio.get_running_loop():
        started = time.monotonic()
        task = asyncio.ensure_future(asyncio.to_thread(_read_rendered, delivery_id, next_event))
        _reads[key] = (started, task)

        def forget(done: asyncio.Task[Rendered]) -> None:
            if _reads.get(key, (0.0, None))[1] is done:
                del _reads[key]

        task.add_done_callback(forget)
    return await asyncio.shield(task)  # a stream that goes away does not cancel the others' read


class LiveEventStream:
    """EventStream's events from the event loop: an async iterable holding a slot of LIVE_SLOTS
    (TRACKING_MAX_STREAMS per process) until the stream ends, also when the client went away."""

    def __init__(self, delivery_id: str, next_event: int) -> None:
        take_slot(LIVE_SLOTS, settings.TRACKING_MAX_STREAMS, delivery_id)
        self.delivery_id = delivery_id
        self.next_event = next_event
        self._closed = False
        self._lock = threading.Lock()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        watch = LiveWatch(self.delivery_id)
        yield f"retry: {RECONNECT_MILLISECONDS}\n\n".encode()
        try:
            await watch.open()  # subscribed before the first read: no change falls between
            async for part in self._events(watch):
                yield part
        except (RedisError, TrackingUnavailable) as exc:
            logger.warning("lost Redis while streaming %s: %s", self.delivery_id, exc)
        finally:
            watch.close()
            self.close()

    async def _events(self, watch: LiveWatch) -> AsyncIterator[bytes]:
        deadline = time.monotonic() + settings.TRACKING_STREAM_MAX_SECONDS
        last_status: dict[str, Any] | None = None
        changed = True
        while True:
            if changed:
                try:
                    rendered = await shared_read(
                        self.delivery_id, self.next_event, watch.changed_at
                    )
                except DeliveryNotFound:
                    self.close()
                    yield sse("end", {"stage": None, "reason": "not-found"}).encode()
                    return
                self.next_event += rendered.count
                text = rendered.events
                if rendered.status != last_status:
                    text += rendered.status_text
                    last_status = rendered.status
                if text:
                    yield text.encode()
                if rendered.closed:
                    self.close()  # as EventStream: free the slot before the last event
                    yield sse("end", {"stage": rendered.stage}).encode()
                    return
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                yield TIME_LIMIT_REACHED
                return
            changed = await watch.wait(min(settings.TRACKING_KEEPALIVE_SECONDS, left))
            if not changed:
                yield KEEP_ALIVE

    def close(self) -> None:
        """Free the slot, once; Django calls this (from a thread) when the response ends."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        LIVE_SLOTS.give_back()
