"""The Celery task consuming the deliveryrequests queue (thin: decode, dispatch to a service)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from fabrikam.apps.ingestion.messages import TASK_NAME
from fabrikam.apps.workflow import services
from fabrikam.http import TransientError

logger = logging.getLogger(__name__)


@shared_task(
    name=TASK_NAME,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(TransientError,),
    retry_backoff=True,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=8,
)
def handle_delivery_request(self: Any, message: dict[str, Any]) -> None:
    operation = message.get("operation")
    if operation == "delivery":
        services.run_delivery_saga(message)
    else:
        logger.warning("operation %r is not handled yet (message %s)", operation, self.request.id)
