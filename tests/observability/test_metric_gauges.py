"""The gauges read at scrape time, in process against the test's own broker: every gauge a role
can read is exported, and a gauge that cannot be read because of a bug is an error, not a gap."""

from __future__ import annotations

import dataclasses

import pytest
from celery import Celery
from django.conf import settings

from fabrikam.observability import metrics
from tests.support.prometheus import sample

pytestmark = [pytest.mark.redis]


def with_reader(monkeypatch, name, reader) -> None:
    """The registered gauge `name`, reading with `reader` for this test."""
    gauge = dataclasses.replace(metrics.GAUGES[name], reader=reader)
    monkeypatch.setitem(metrics.GAUGES, name, gauge)


def test_the_workflow_exports_the_depth_of_the_request_and_dead_letter_queues(settings, queue):
    dead_letter = settings.DELIVERY_REQUESTS_DEADLETTER_QUEUE
    Celery(broker=settings.CELERY_BROKER_URL).send_task(
        "fabrikam.dead-letter-probe", args=[{}], queue=dead_letter
    )

    text = metrics.exposition("workflow")[0].decode()

    assert sample(text, "fabrikam_queue_messages", queue=queue) == 0
    assert sample(text, "fabrikam_queue_messages", queue=dead_letter) == 1


def test_an_absent_sample_fails_the_test_that_reads_it():
    with pytest.raises(pytest.fail.Exception, match="no sample fabrikam_queue_messages"):
        sample("", "fabrikam_queue_messages", queue="deliveryrequests")


def test_a_broker_that_cannot_answer_leaves_the_gauge_out(monkeypatch):
    def unreachable() -> dict[str, int]:
        raise ConnectionRefusedError("broker down")

    with_reader(monkeypatch, "queue.messages", unreachable)

    text = metrics.exposition("workflow")[0].decode()

    assert "fabrikam_queue_messages{" not in text


def test_a_gauge_that_fails_for_another_reason_is_an_error_not_a_gap(monkeypatch):
    def broken() -> dict[str, int]:
        return {"q": settings.NO_SUCH_SETTING}

    with_reader(monkeypatch, "queue.messages", broken)

    with pytest.raises(AttributeError, match="NO_SUCH_SETTING"):
        metrics.exposition("workflow")
