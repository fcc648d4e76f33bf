"""`manage.py deadletters list|show ID|replay ID`: inspect and replay dead-lettered messages."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fabrikam.apps.workflow import deadletters


class Command(BaseCommand):
    help = "Inspect and replay messages the workflow dead-lettered."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="one line per dead letter, oldest first")
        listing.add_argument("--limit", type=int, default=100)
        listing.add_argument("--json", action="store_true", help="machine-readable output")
        show = sub.add_parser("show", help="a dead letter with its reason and original body")
        show.add_argument("message_id")
        replay = sub.add_parser("replay", help="put the original message back on the queue")
        replay.add_argument("message_id")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "list":
            letters = deadletters.browse(options["limit"])
            if options["json"]:
                self.stdout.write(json.dumps([letter.as_dict() for letter in letters]))
                return
            if not letters:
                queue = settings.DELIVERY_REQUESTS_DEADLETTER_QUEUE
                self.stdout.write(f"the dead-letter queue {queue} is empty")
            for letter in letters:
                self.stdout.write(f"{letter.failed_at}  {letter.message_id}  {letter.reason}")
        elif action == "show":
            letter = self._find(options["message_id"])
            self.stdout.write(deadletters.describe(letter))
        else:
            letter = deadletters.replay(options["message_id"])
            if letter is None:
                raise self._not_found(options["message_id"])
            self.stdout.write(self.style.SUCCESS(f"replayed {letter.message_id}"))

    def _find(self, message_id: str) -> deadletters.DeadLetter:
        for letter in deadletters.browse(limit=1000):
            if letter.message_id == message_id:
                return letter
        raise self._not_found(message_id)

    def _not_found(self, message_id: str) -> CommandError:
        return CommandError(
            f"no dead letter {message_id!r} in {settings.DELIVERY_REQUESTS_DEADLETTER_QUEUE}; "
            "run `manage.py deadletters list` to see the ids"
        )
