"""Customers watching a delivery live (the tracking page's stream): how many streams this process
serves at once, and a subscription that says when a delivery changed.

A stream holds one gunicorn thread (the `gthread` worker) for as long as it lasts, so the number of
streams per process is capped (TRACKING_MAX_STREAMS) below the thread count: API calls and health
probes always find a free thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

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


SLOTS = StreamSlots()


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
        status = selectors.delivery_status(self.delivery_id)
        fresh = repository.events(self.delivery_id, self.next_event)
        numbered = list(enumerate(fresh, self.next_event))
        self.next_event += len(fresh)
        return Snapshot(numbered, status)

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
