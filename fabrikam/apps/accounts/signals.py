"""Saving or deleting a business or client drops this process's cached lookups at once."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from fabrikam.apps.accounts import selectors
from fabrikam.apps.accounts.models import ApiClient, Business


@receiver([post_save, post_delete], sender=Business)
@receiver([post_save, post_delete], sender=ApiClient)
def _registry_changed(**kwargs: Any) -> None:
    selectors.forget_clients()
