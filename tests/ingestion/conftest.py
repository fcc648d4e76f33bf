from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from fabrikam.apps.ingestion.api import fast_validation
from tests.ingestion import bridge, broker


@pytest.fixture
def received(settings, queue):
    """Drains the test's queue: what the workflow would receive."""
    return lambda: broker.drain(settings.CELERY_BROKER_URL, queue)


@pytest.fixture(params=["fast path", "serializer"])
def validation_path(request, monkeypatch):
    """Runs a test with each way a POST's body is validated: the fast path for usual bodies
    (fabrikam/apps/ingestion/api/fast_validation.py), and the serializer alone."""
    if request.param == "serializer":
        monkeypatch.setattr(fast_validation, "validated_delivery_request", lambda data: None)
    return request.param


@pytest.fixture(params=["fast path", "django"])
def through_the_bridge(request, monkeypatch, transactional_db):
    """Every DRF test client of the test sends its requests through the server's bridge, with the
    ingestion's fast path (`fast path`) or without it (`django`); yields the server."""
    server = bridge.Server(request.param == "fast path")
    monkeypatch.setattr(APIClient, "request", bridge.BridgedClient.request)
    monkeypatch.setattr(APIClient, "server", server, raising=False)
    yield server
    server.close()
