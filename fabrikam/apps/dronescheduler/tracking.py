"""The outbox of flight updates for the delivery service, and sending it.

Updates are stored with the flight's progress and sent oldest first, one delivery at a time; an
update leaves the outbox only once the delivery service took it. When the delivery service is
down the simulation goes on and the next tick sends what is waiting (the tracking endpoint
ignores updates older than one it has, so nothing is applied out of order).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from fabrikam.apps.dronescheduler import clients
from fabrikam.apps.dronescheduler.models import TrackingUpdate
from fabrikam.interservice.http import PermanentError, TransientError

logger = logging.getLogger(__name__)


def enqueue(updates: Iterable[TrackingUpdate]) -> None:
    """Store `updates` (call in the transaction that advanced the flight). A position report
    replaces the one still waiting for the same delivery; milestones are all kept."""
    for update in updates:
        if not update.milestone:
            TrackingUpdate.objects.filter(delivery_id=update.delivery_id, milestone=False).delete()
        update.save()


def discard(delivery_id: str) -> None:
    """Forget what is waiting for a delivery that no longer flies (released)."""
    TrackingUpdate.objects.filter(delivery_id=delivery_id).delete()


@dataclass(frozen=True)
class PushReport:
    sent: int = 0
    failed: int = 0


def push_pending() -> PushReport:
    """Send the waiting updates. A delivery whose update failed waits for the next tick; when the
    delivery service does not answer at all, the rest wait too."""
    sent = failed = 0
    waiting = TrackingUpdate.objects.values_list("delivery_id", flat=True).order_by().distinct()
    for delivery_id in list(waiting):
        for update in TrackingUpdate.objects.filter(delivery_id=delivery_id).order_by(
            "timestamp", "pk"
        ):
            try:
                clients.post_tracking(delivery_id, update.as_payload())
            except TransientError as exc:
                failed += 1
                logger.warning("tracking update for %s not sent, will retry: %s", delivery_id, exc)
                if exc.status is None:  # no answer: the service is down, stop for this tick
                    return PushReport(sent, failed)
                break
            except PermanentError as exc:
                failed += 1
                if exc.status == 404:  # the saga has not created the delivery yet
                    logger.debug("delivery %s not known yet; will retry its tracking", delivery_id)
                    break
                logger.error("tracking update for %s refused, dropped: %s", delivery_id, exc)
            else:
                sent += 1
            TrackingUpdate.objects.filter(pk=update.pk).delete()
    return PushReport(sent, failed)
