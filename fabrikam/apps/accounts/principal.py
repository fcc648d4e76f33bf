"""Who is calling: what DRF puts in `request.user` for a valid bearer token."""

from __future__ import annotations

from dataclasses import dataclass

from fabrikam.apps.accounts import scopes as scope


@dataclass(frozen=True)
class Principal:
    subject: str  # the token's `sub`
    client_id: str  # the token's `azp`/`appid`: the application holding the token
    scopes: frozenset[str]
    owner_id: str | None = None  # the business the client acts for; None for admin/internal

    is_authenticated = True  # what DRF's and Django's checks read

    @property
    def acts_for_every_owner(self) -> bool:
        return bool(self.scopes & scope.EVERY_OWNER)

    def may_act_for(self, owner_id: str) -> bool:
        return self.acts_for_every_owner or owner_id == self.owner_id

    def __str__(self) -> str:
        return self.client_id
