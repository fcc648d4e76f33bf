"""The Celery task consuming the deliveryrequests queue: decode, call the saga, decide between
done, retry later (re-scheduled with a countdown, never a sleep) and the dead-letter queue."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.exceptions import Reject, Retry
from django.conf import settings
from redis.exceptions import RedisError

from fabrikam.apps.workflow import deadletters, services, time_limit
from fabrikam.apps.workflow.exceptions import GivenUp, InvalidMessage, RetryLater
from fabrikam.apps.workflow.messages import validate
from fabrikam.contract.messages import TASK_NAME

logger = logging.getLogger(__name__)


@shared_task(
    name=TASK_NAME,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,  # counted below, so that giving up can compensate and dead-letter
)
def handle_delivery_request(
    self: Any, message: Any, replayed: bool = False, attempt: int = 0
) -> str:
    """`attempt` counts the tries that failed so far; waiting for another worker's lock on the
    same delivery (a redelivery racing a dead worker's lock) does not count."""
    if not time_limit.applies(settings.CELERY_WORKER_POOL, bool(self.request.is_eager)):
        return _attempt(self, message, replayed, attempt)
    with time_limit.bounded(settings.CELERY_TASK_SOFT_TIME_LIMIT, settings.CELERY_TASK_TIME_LIMIT):
        return _attempt(self, message, replayed, attempt)


def _attempt(self: Any, message: Any, replayed: bool, attempt: int) -> str:
    try:
        message = validate(message)
        outcome = services.handle(message, attempt, replayed=replayed)
    except InvalidMessage as error:
        deadletters.publish(self.request.id, f"invalid message: {error}", message, attempt + 1)
        return "dead-lettered"
    except GivenUp as given_up:  # its undo, pending since it was given up, has run
        deadletters.publish(self.request.id, given_up.reason, message, attempt)
        return "dead-lettered"
    except RetryLater as later:
        tried = attempt + 1 if later.counts else attempt
        if later.final or (later.counts and tried >= settings.WORKFLOW_MAX_ATTEMPTS):
            reason = (
                later.reason if later.final else f"gave up after {tried} attempts: {later.reason}"
            )
            try:
                services.give_up(message, reason)
            except RetryLater as pending:  # the undo cannot run yet: try it again later
                later = pending
            else:
                deadletters.publish(self.request.id, reason, message, tried)
                return "dead-lettered"
        logger.info("retrying %s in %.1fs: %s", self.request.id, later.countdown, later.reason)
        kwargs = {"replayed": replayed, "attempt": tried}
        raise self.retry(countdown=later.countdown, kwargs=kwargs, exc=later) from later
    except RedisError as error:
        # The saga's own store is away (restarting, failing over): nothing was decided and every
        # step is idempotent. A task that failed would be acknowledged and the request lost, so
        # try again later, or hand the message back to the broker if it cannot take the retry.
        logger.warning("saga store unavailable for %s, retrying: %s", self.request.id, error)
        kwargs = {"replayed": replayed, "attempt": attempt}
        try:
            raise self.retry(
                countdown=settings.WORKFLOW_RETRY_BASE_DELAY, kwargs=kwargs, exc=error
            ) from error
        except Retry:
            raise
        except Exception as publish_error:
            raise Reject(publish_error, requeue=True) from error
    return outcome.status
