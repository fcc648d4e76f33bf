"""A small Server-Sent Events reader for the tests: the text/event-stream format as a browser's
EventSource parses it (https://html.spec.whatwg.org/multipage/server-sent-events.html)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    event: str  # "message" when the block names none
    data: str
    id: str | None = None
    retry: int | None = None
    comment: str | None = None  # a block of only a comment (keep-alive)

    def json(self) -> Any:
        return json.loads(self.data)


def blocks(chunks: Iterable[bytes]) -> Iterator[str]:
    """The blank-line separated blocks of a stream, as they complete."""
    buffer = ""
    for chunk in chunks:
        buffer += chunk.decode()
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            yield block


def events(chunks: Iterable[bytes]) -> Iterator[Event]:
    for block in blocks(chunks):
        fields: dict[str, list[str]] = {}
        comments = []
        for line in block.split("\n"):
            if line.startswith(":"):
                comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value[1:] if value.startswith(" ") else value)
        yield Event(
            event=fields.get("event", ["message"])[-1],
            data="\n".join(fields.get("data", [])),
            id=fields["id"][-1] if "id" in fields else None,
            retry=int(fields["retry"][-1]) if "retry" in fields else None,
            comment=" ".join(comments) if comments and not fields else None,
        )
