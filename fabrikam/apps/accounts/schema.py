"""The bearer scheme in the OpenAPI document, so Swagger UI's "Authorize" takes a token."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "fabrikam.apps.accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "An Entra ID access token for this API (or, locally, one from "
                "`manage.py issue_token`). Scopes: deliveries.read, deliveries.write, admin."
            ),
        }
