"""The flight tick, sent by Celery beat (the `scheduler` role) every FLIGHT_TICK_SECONDS."""

from __future__ import annotations

import logging

from celery import shared_task

from fabrikam.apps.dronescheduler import flights

ADVANCE_FLIGHTS = "dronescheduler.advance_flights"  # settings.CELERY_BEAT_SCHEDULE names it

logger = logging.getLogger(__name__)


@shared_task(name=ADVANCE_FLIGHTS, acks_late=False, ignore_result=True)
def advance_flights() -> None:
    report = flights.advance_flights()
    logger.log(logging.INFO if report.advanced else logging.DEBUG, "flight tick: %s", report)
