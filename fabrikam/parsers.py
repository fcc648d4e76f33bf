"""The only request body format the API takes: JSON, up to a configured size."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from rest_framework.parsers import JSONParser

from fabrikam.problems import PayloadTooLarge


class LimitedJSONParser(JSONParser):
    """JSON with a size cap: DRF reads the raw stream, bypassing Django's own upload limit."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
        return super().parse(io.BytesIO(raw), media_type, parser_context)
