"""The only request body format the API takes: JSON, up to a configured size and depth."""

from __future__ import annotations

import io
import re
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from fabrikam.web.problems import PayloadTooLarge

# Our deepest body (a delivery request's location) is three levels; anything near Python's
# recursion limit (json raises RecursionError at about 1,000) is an attack, not a request.
MAX_JSON_DEPTH = 32

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


class LimitedJSONParser(JSONParser):
    """JSON with a size cap (DRF reads the raw stream, bypassing Django's own upload limit) and a
    nesting cap, checked before parsing: a deeply nested body is a 400, not a RecursionError."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
        if nested_deeper_than(raw, MAX_JSON_DEPTH):
            raise ParseError(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.")
        return super().parse(io.BytesIO(raw), media_type, parser_context)


def nested_deeper_than(raw: bytes, limit: int) -> bool:
    """Whether the JSON text `raw` nests arrays or objects more than `limit` deep.

    At C speed, without parsing: drop the strings (they may hold brackets), keep only the brackets,
    then strip the innermost `[]` pairs once per level. Our bodies have a handful of brackets, so
    most never get past the count; the rest cost about what parsing them does.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", raw).translate(_SQUARE, _NOT_BRACKETS)
    for _ in range(limit):
        shorter = brackets.replace(b"[]", b"")
        if shorter == brackets:  # nothing nested is left (or unbalanced: the parser says so)
            return False
        brackets = shorter
    return b"[]" in brackets
