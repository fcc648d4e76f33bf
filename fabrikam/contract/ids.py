"""The id rule (API.md "Shared types"): delivery, package and owner ids are 1-128 letters, digits,
'.', '_' or '-', so an id is always one path segment (no '/', no space)."""

from django.core.validators import RegexValidator

ID_MAX_LENGTH = 128
ID_REGEX = r"[A-Za-z0-9_.\-]{1,128}"  # unanchored, as a URL path converter takes it
ID_PATTERN = rf"^{ID_REGEX}$"
ID_RULE = "Use 1-128 letters, digits, '.', '_' or '-'."
ID_VALIDATOR = RegexValidator(ID_PATTERN, ID_RULE)
