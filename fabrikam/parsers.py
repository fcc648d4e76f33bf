"""The only request body format the API takes: JSON, up to a configured size and depth."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from fabrikam.problems import PayloadTooLarge

# Our deepest body (a delivery request's location) is three levels; anything near Python's
# recursion limit (json raises RecursionError at about 1,000) is an attack, not a request.
MAX_JSON_DEPTH = 32


class LimitedJSONParser(JSONParser):
    """JSON with a size cap (DRF reads the raw stream, bypassing Django's own upload limit) and a
    nesting cap (a deeply nested body is a 400, not a RecursionError)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
        too_deep_error = ParseError(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.")
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            raise too_deep_error from None
        if too_deep(data, MAX_JSON_DEPTH):
            raise too_deep_error
        return data


def too_deep(value: Any, limit: int) -> bool:
    """Whether `value` has arrays or objects nested more than `limit` deep (without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
