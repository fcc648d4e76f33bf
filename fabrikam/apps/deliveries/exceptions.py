"""The deliveries' business-rule failures; fabrikam/web/problems.py maps them to problem+json."""

from fabrikam.web.problems import Conflict, NotFound, ServiceUnavailable, Unprocessable


class DeliveryNotFound(NotFound):
    title = "Delivery not found"
    slug = "delivery-not-found"


class DeliveryClosed(Conflict):
    """Cancelled (also once expired), completed, or past the stage a change needs."""

    title = "The delivery can no longer change this way"
    slug = "delivery-closed"


class OwnerMismatch(Conflict):
    title = "A delivery keeps its owner"
    slug = "delivery-owner-mismatch"


class AlreadyConfirmed(Conflict):
    title = "The delivery is already confirmed"
    slug = "delivery-already-confirmed"


class TooManyNotifyMeRequests(Conflict):
    title = "Too many notify-me requests"
    slug = "too-many-notify-me-requests"


class ConcurrentChange(Conflict):
    title = "The delivery kept changing during the request"
    slug = "delivery-concurrent-change"


class WrongConfirmationType(Unprocessable):
    title = "Wrong confirmation type"
    slug = "wrong-confirmation-type"


class TrackingUnavailable(ServiceUnavailable):
    title = "Live tracking is unavailable"
    slug = "tracking-unavailable"


class TooManyStreams(ServiceUnavailable):
    """This process serves as many live streams as it may; the page polls instead."""

    title = "Too many live tracking streams"
    slug = "too-many-tracking-streams"
