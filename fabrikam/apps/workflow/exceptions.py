"""What the workflow raises: the Celery task (tasks.py) decides from these between the dead-letter
queue, a later retry and the saga's own waiting."""

from __future__ import annotations


class InvalidMessage(Exception):
    """A queue message that does not fit the contract: retrying it cannot help, so it goes
    straight to the dead-letter queue with the reason."""


class RetryLater(Exception):
    """A transient failure: the task re-schedules the message after `countdown` seconds."""

    def __init__(
        self, reason: str, countdown: float, counts: bool = True, final: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.countdown = countdown
        self.counts = counts  # whether this try counts towards WORKFLOW_MAX_ATTEMPTS
        self.final = final  # the request's deadline passed: give up now, whatever the attempts


class GivenUp(Exception):
    """A delivery given up on has finished undoing itself: the task dead-letters it now."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Busy(Exception):
    """Another worker holds this delivery's lock, for `retry_in` more seconds at most."""

    def __init__(self, delivery_id: str, retry_in: float) -> None:
        super().__init__(delivery_id)
        self.retry_in = retry_in


class LockLost(Exception):
    """This worker's lock on the delivery lapsed (it stalled) and its write to the saga was
    refused: another worker may have taken over."""
