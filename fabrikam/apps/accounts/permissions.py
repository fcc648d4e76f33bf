"""Who may call which endpoint: scopes per HTTP method, then the business a caller acts for.

Every API view declares `required_scopes`, a map of method → the scopes that may call it (any one
of them). A view without the map, or a method not in it, is refused: an endpoint someone forgot to
protect fails closed. Public views say so with `permission_classes = [AllowAny]`.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from fabrikam.apps.accounts import scopes as scope
from fabrikam.apps.accounts.principal import Principal

# What each kind of endpoint accepts.
OWNER_READ = frozenset({scope.READ, scope.ADMIN, scope.INTERNAL})  # then: own data only
OWNER_WRITE = frozenset({scope.WRITE, scope.ADMIN})  # then: own data only
SERVICE = frozenset({scope.INTERNAL})  # the services' own write endpoints
BACK_OFFICE = frozenset({scope.ADMIN, scope.INTERNAL})  # fleet views

RequiredScopes = dict[str, frozenset[str]]


class HasRequiredScope(BasePermission):
    message = "This token's scopes do not allow this request."

    def has_permission(self, request: Request, view: Any) -> bool:
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        if getattr(view, (method or "").lower(), None) is None:
            return True  # not a method of this view: let it answer 405
        allowed = getattr(view, "required_scopes", {}).get(method)
        if not allowed:
            return False
        principal = request.user
        if not isinstance(principal, Principal):
            return False  # anonymous: DRF answers 401 with WWW-Authenticate
        if principal.scopes & allowed:
            return True
        has = ", ".join(sorted(principal.scopes)) or "none"
        self.message = (
            f"{request.method} here needs a token with one of the scopes "
            f"{', '.join(sorted(allowed))}; this one has {has}."
        )
        return False


def require_owner(request: Request, owner_id: str) -> None:
    """The caller names a business (a body or query field): another one's is a 403."""
    principal: Principal = request.user
    if not principal.may_act_for(owner_id):
        raise exceptions.PermissionDenied(
            f"This client acts for business {principal.owner_id}, not {owner_id}."
        )


def hide_unless_owner(request: Request, owner_id: str, not_found: Exception) -> None:
    """The caller names a resource by id: another business's answers exactly as a missing one,
    so ids cannot be probed for existence."""
    principal: Principal = request.user
    if not principal.may_act_for(owner_id):
        raise not_found
