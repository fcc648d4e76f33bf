from __future__ import annotations

import pytest

from tests.ingestion import broker


@pytest.fixture
def received(settings, queue):
    """Drains the test's queue: what the workflow would receive."""
    return lambda: broker.drain(settings.CELERY_BROKER_URL, queue)
