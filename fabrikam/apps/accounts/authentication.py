"""DRF authentication: `Authorization: Bearer <JWT>` → a `Principal` in `request.user`.

No header leaves the request anonymous (public endpoints answer it; the others say 401). A header
that is not a valid token is a 401 whatever the endpoint. A valid token from a client that is not
registered to an active business is a 403, unless its scopes act for every business (admin,
internal), which Entra grants by app-role assignment.
"""

from __future__ import annotations

import logging

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from fabrikam.apps.accounts import selectors, tokens, verified_tokens
from fabrikam.apps.accounts.principal import Principal
from fabrikam.apps.accounts.tokens import Claims

logger = logging.getLogger(__name__)


class KeysUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "Tokens cannot be checked right now (the issuer's keys are unreachable)."
    default_code = "token_keys_unavailable"


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Principal, Claims] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        token = bearer_token(header)
        if token is None:
            raise exceptions.AuthenticationFailed("Send the token as: Authorization: Bearer <JWT>.")
        try:
            claims = verified_tokens.validate(token)
        except tokens.InvalidToken as exc:
            raise exceptions.AuthenticationFailed(f"The bearer token is invalid: {exc}.") from None
        except tokens.KeysUnavailable as exc:
            logger.error("cannot validate tokens: %s", exc)
            raise KeysUnavailable() from None
        return principal_for(claims), claims

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="fabrikam"'


def bearer_token(header: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header's value; None when malformed."""
    kind, _, token = header.partition(" ")
    token = token.strip()
    return token if kind.lower() == "bearer" and token else None


def known_principal(header: str) -> Principal | None:
    """What `authenticate` would put in `request.user` for this Authorization header, when this
    process answers it from its caches alone (a token verified already, a client known already) and
    the answer is a principal acting for a business or for every one; None in every other case (no
    or a malformed header, a token or client not cached, a refusal), which only `authenticate`
    may answer. The server's event loop asks this: it must never wait."""
    token = bearer_token(header)
    if token is None:
        return None
    claims = verified_tokens.trusted(token)
    if claims is None:
        return None
    principal = Principal(claims.subject, claims.client_id, claims.scopes)
    if principal.acts_for_every_owner:
        return principal
    if not claims.client_id:
        return None
    known, owner_id = selectors.known_client_owner(claims.client_id)
    if not known or owner_id is None:
        return None
    return Principal(claims.subject, claims.client_id, claims.scopes, owner_id)


def principal_for(claims: Claims) -> Principal:
    principal = Principal(claims.subject, claims.client_id, claims.scopes)
    if principal.acts_for_every_owner:
        return principal
    owner_id = selectors.client_owner(claims.client_id) if claims.client_id else None
    if owner_id is None:
        raise exceptions.PermissionDenied(
            f"The client {claims.client_id or '(no azp/appid claim)'} is not registered to an "
            "active business: a Fabrikam admin adds it under Business accounts → API clients."
        )
    return Principal(claims.subject, claims.client_id, claims.scopes, owner_id)
