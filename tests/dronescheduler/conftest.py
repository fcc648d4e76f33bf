from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from fabrikam.apps.accounts import scopes, tokens
from tests.support.http_server import QuietHandler, serving


@dataclass
class TrackingRecorder:
    """A real HTTP server standing in for the delivery service's tracking endpoint: it records
    each `POST /api/deliveries/{id}/tracking` it accepts and answers `status` (204 by default)."""

    url: str = ""
    status: int = 204
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refused: int = 0
    unauthorized: int = 0  # posts without a valid service token
    hold: threading.Event | None = None  # when set by a test, requests wait for it
    holding: threading.Event = field(default_factory=threading.Event)

    def updates(self, delivery_id: str) -> list[dict[str, Any]]:
        path = f"/api/deliveries/{delivery_id}/tracking"
        return [body for posted, body in self.posts if posted == path]


def _internal(authorization: str) -> bool:
    kind, _, token = authorization.partition(" ")
    try:
        return kind == "Bearer" and scopes.INTERNAL in tokens.validate(token).scopes
    except tokens.InvalidToken:
        return False


@pytest.fixture
def tracking(settings) -> Iterator[TrackingRecorder]:
    recorder = TrackingRecorder()

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            if recorder.hold is not None:
                recorder.holding.set()
                recorder.hold.wait(timeout=30)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if not _internal(self.headers.get("Authorization", "")):
                # As the delivery service would: its tracking endpoint takes service tokens only.
                recorder.unauthorized += 1
                self.send_empty(401)
                return
            if recorder.status < 300:
                recorder.posts.append((self.path, body))
            else:
                recorder.refused += 1
            self.send_empty(recorder.status)

    with serving(Handler) as url:
        recorder.url = url
        settings.SERVICE_URL_DELIVERY = url
        yield recorder
