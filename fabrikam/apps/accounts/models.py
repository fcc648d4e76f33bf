"""Businesses and the API clients that act for them.

A business's id is the `ownerId` of its delivery requests. An API client is an application that
holds tokens: its `client_id` is the token's `azp` (Entra v2) or `appid` (v1) claim, the
application (client) id of its Entra app registration, or the id `issue_token` signs locally.
"""

from __future__ import annotations

from django.db import models

from fabrikam.contract.ids import ID_MAX_LENGTH, ID_VALIDATOR


class Business(models.Model):
    owner_id = models.CharField(
        "owner id",
        primary_key=True,
        max_length=ID_MAX_LENGTH,
        validators=[ID_VALIDATOR],
        help_text="This business's ownerId in delivery requests; it cannot change.",
    )
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(
        "active", default=True, help_text="Off: none of its clients' tokens are accepted."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "businesses"

    def __str__(self) -> str:
        return f"{self.name} ({self.owner_id})"


class ApiClient(models.Model):
    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="clients")
    name = models.CharField(max_length=200)
    client_id = models.CharField(
        "client id",
        max_length=128,
        unique=True,
        help_text="The token's azp/appid claim: the Entra application (client) id.",
    )
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Off: its tokens are refused (within AUTH_CLIENT_CACHE_SECONDS).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["business", "name"]
        verbose_name = "API client"

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"
