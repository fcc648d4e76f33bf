"""GET /api/deliveries/{id}/stream: Server-Sent Events of a delivery's status for the tracking page.

The stream sends, in this order: a `retry` hint, every tracking event from the resume point
(`event: tracking`, `id:` its offset in the delivery's events, so a reconnecting EventSource's
`Last-Event-ID` resumes after it), and the status (`event: status`, the body of `GET .../status`).
Then each change as it happens, a `: keep-alive` comment when nothing happened for
TRACKING_KEEPALIVE_SECONDS, and finally `event: end` once the delivery is completed or cancelled.
A stream lasts at most TRACKING_STREAM_MAX_SECONDS; the browser then reconnects and resumes.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

from fabrikam.apps.deliveries.api.serializers import (
    DeliveryEventSerializer,
    DeliveryStatusSerializer,
)
from fabrikam.apps.deliveries.exceptions import DeliveryNotFound, TooManyStreams
from fabrikam.apps.deliveries.watchers import SLOTS, DeliveryWatch, Snapshot

logger = logging.getLogger(__name__)
RECONNECT_MILLISECONDS = 2000


def sse(event: str, data: Any, event_id: int | None = None) -> str:
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines += [f"event: {event}", "data: " + json.dumps(data, separators=(",", ":"))]
    return "\n".join(lines) + "\n\n"


class EventStream:
    """The response body: an iterable that holds a stream slot and a subscription until `close()`
    (which Django calls when the response ends, also when the client went away)."""

    def __init__(self, delivery_id: str, next_event: int) -> None:
        if not SLOTS.take(settings.TRACKING_MAX_STREAMS):
            raise TooManyStreams(
                f"This server already streams to {settings.TRACKING_MAX_STREAMS} watchers; poll "
                f"/api/deliveries/{delivery_id}/status instead, or retry later.",
                retry_after=settings.TRACKING_RETRY_AFTER_SECONDS,
            )
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
                yield b": stream time limit reached; reconnect to resume\n\n"
                return
            try:
                changed = self.watch.wait(min(settings.TRACKING_KEEPALIVE_SECONDS, left))
            except RedisError:
                logger.warning("lost Redis while streaming %s", self.watch.delivery_id)
                return
            if not changed:
                yield b": keep-alive\n\n"

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
