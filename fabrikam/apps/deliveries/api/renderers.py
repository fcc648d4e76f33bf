"""`text/event-stream` for the tracking stream. A successful stream is a StreamingHttpResponse and
never goes through a renderer; this one only renders the errors (problem+json bodies) a client that
accepts nothing but `text/event-stream` gets, as JSON."""

from __future__ import annotations

import json
from typing import Any

from rest_framework.renderers import BaseRenderer


class EventStreamRenderer(BaseRenderer):
    media_type = "text/event-stream"
    format = "event-stream"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        return b"" if data is None else json.dumps(data).encode()
