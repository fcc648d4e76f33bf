"""Writes to the business registry."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from fabrikam.apps.accounts.models import ApiClient, Business
from fabrikam.contract.ids import ID_VALIDATOR


@transaction.atomic
def ensure_local_client(owner_id: str, client_id: str | None = None) -> ApiClient:
    """The API client `issue_token` signs for: `client_id` (default `<ownerId>-local`) of the
    business `owner_id`, both created if missing. An existing client of another business is an
    error: a token must not move a client from one business to another."""
    try:
        ID_VALIDATOR(owner_id)
    except ValidationError as exc:
        raise ValueError(f"--owner {owner_id!r}: {' '.join(exc.messages)}") from None
    business, _ = Business.objects.get_or_create(owner_id=owner_id, defaults={"name": owner_id})
    client, _ = ApiClient.objects.get_or_create(
        client_id=client_id or f"{owner_id}-local",
        defaults={"business": business, "name": "Local tokens (issue_token)"},
    )
    if client.business_id != business.owner_id:
        raise ValueError(
            f"client {client.client_id} belongs to business {client.business_id}, not {owner_id}"
        )
    return client
