from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from tests.support import auth


@pytest.fixture
def redis_store() -> Iterator[Any]:
    """The Redis of the deliveries/ingestion/workflow stores, emptied around the test."""
    connection = get_redis_connection("default")
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def api() -> APIClient:
    """A client with a token of every scope (internal, admin, read, write): the services' and the
    back office's view, for tests of what an endpoint does. tests/accounts test who may call it."""
    return auth.api_client()


@pytest.fixture
def anonymous_api() -> APIClient:
    return APIClient()
