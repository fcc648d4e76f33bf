"""The Django/DRF side of every HTTP role: problem+json errors, the JSON parser, the
OpenAPI document's additions, path middleware and the back office's admin site."""
