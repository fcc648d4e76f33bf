from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django_redis import get_redis_connection
from rest_framework.test import APIClient


@pytest.fixture
def redis_store() -> Iterator[Any]:
    """The Redis of the deliveries/ingestion/workflow stores, emptied around the test."""
    connection = get_redis_connection("default")
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def api() -> APIClient:
    return APIClient()
