"""The Celery task consuming the deliveryrequests queue: decode, call the saga, decide between
done, retry later (re-scheduled with a countdown, never a sleep) and the dead-letter queue."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings

from fabrikam.apps.ingestion.messages import TASK_NAME
from fabrikam.apps.workflow import deadletters, services
from fabrikam.apps.workflow.messages import InvalidMessage, validate

logger = logging.getLogger(__name__)


@shared_task(
    name=TASK_NAME,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,  # counted below, so that giving up can compensate and dead-letter
)
def handle_delivery_request(self: Any, message: Any, replayed: bool = False) -> str:
    attempt = self.request.retries
    try:
        message = validate(message)
        outcome = services.handle(message, attempt, replayed=replayed)
    except InvalidMessage as error:
        deadletters.publish(self.request.id, f"invalid message: {error}", message, attempt + 1)
        return "dead-lettered"
    except services.RetryLater as later:
        if attempt + 1 >= settings.WORKFLOW_MAX_ATTEMPTS:
            reason = f"gave up after {attempt + 1} attempts: {later.reason}"
            services.give_up(message, reason)
            deadletters.publish(self.request.id, reason, message, attempt + 1)
            return "dead-lettered"
        logger.info("retrying %s in %.1fs: %s", self.request.id, later.countdown, later.reason)
        raise self.retry(countdown=later.countdown, exc=later) from later
    return outcome.status
