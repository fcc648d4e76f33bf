"""`manage.py issue_token --owner <ownerId> [--scope ...]`: a token signed with the local key.

For local development and tests; in Azure, clients get their tokens from Entra ID.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fabrikam.apps.accounts import scopes as scope
from fabrikam.apps.accounts import services, tokens

DEFAULT_SCOPES = [scope.READ, scope.WRITE]


class Command(BaseCommand):
    help = "Print a bearer token for a business's API client, signed with AUTH_SIGNING_KEY."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--owner",
            help="the business (ownerId) the client acts for; created if missing. "
            "Optional with --scope admin or internal.",
        )
        parser.add_argument(
            "--scope",
            action="append",
            choices=scope.ALL,
            help=f"repeat for several (default: {' '.join(DEFAULT_SCOPES)})",
        )
        parser.add_argument("--client", help="the client id (default: <owner>-local)")
        parser.add_argument(
            "--lifetime",
            type=int,
            default=settings.AUTH_TOKEN_LIFETIME_SECONDS,
            help="seconds until it expires (default: AUTH_TOKEN_LIFETIME_SECONDS)",
        )

    def handle(
        self,
        *args: Any,
        owner: str | None,
        scope: list[str] | None,
        client: str | None,
        lifetime: int,
        **options: Any,
    ) -> None:
        if settings.AUTH_JWKS_URL:
            raise CommandError(
                "AUTH_JWKS_URL is set, so only the external issuer's tokens are accepted: get one "
                "from Entra ID (e.g. az account get-access-token --scope api://fabrikam/.default)"
            )
        granted = scope or DEFAULT_SCOPES
        if lifetime < 1:
            raise CommandError("--lifetime must be at least 1 second")
        if owner:
            try:
                client = services.ensure_local_client(owner, client).client_id
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        elif not set(granted) & {"admin", "internal"}:
            raise CommandError(
                "--owner is required: deliveries.read/write tokens act for one business"
            )
        token = tokens.issue(client or "fabrikam-operator", granted, lifetime=lifetime)
        self.stdout.write(token)
