from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from fabrikam.apps.accounts import scopes
from tests.accounts.factories import ApiClientFactory
from tests.ingestion.conftest import received  # noqa: F401 - a fixture for these tests
from tests.support import auth

BUSINESS_SCOPES = (scopes.READ, scopes.WRITE)


@pytest.fixture
def business_api(db) -> Callable[..., APIClient]:
    """An API client of a registered business (created on first use), holding a token with
    `granted` scopes (read and write by default)."""

    def make(owner_id: str, *granted: str) -> APIClient:
        client = ApiClientFactory(business__owner_id=owner_id)
        return auth.api_client(*(granted or BUSINESS_SCOPES), client_id=client.client_id)

    return make
