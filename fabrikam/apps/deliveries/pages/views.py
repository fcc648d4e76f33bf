"""The customer's tracking page: `GET /track/{deliveryId}` (HTML; the delivery role serves it).

It shows public data only (what `GET /api/deliveries/public/{id}`, `.../status` and `.../events`
answer, never the owner), rendered once on the server so it reads without JavaScript, then kept
current by static/deliveries/track.js over the stream (`.../stream`) or, failing that, by polling.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from fabrikam.apps.deliveries import selectors
from fabrikam.apps.deliveries.api.serializers import (
    DeliveryEventSerializer,
    DeliveryStatusSerializer,
    PublicDeliverySerializer,
)
from fabrikam.apps.deliveries.exceptions import DeliveryNotFound
from fabrikam.apps.deliveries.stages import CLOSED_STAGES
from fabrikam.contract.enums import DeliveryStage
from fabrikam.contract.ids import ID_REGEX

VALID_ID = re.compile(ID_REGEX)

# What the customer reads for each stage, and the steps of the progress line.
STAGE_TEXT = {
    DeliveryStage.CREATED: "Scheduled: a drone is assigned",
    DeliveryStage.RESCHEDULED: "Rescheduled",
    DeliveryStage.HEADED_TO_PICKUP: "The drone is on its way to pick up your package",
    DeliveryStage.HEADED_TO_DROPOFF: "Your package is on its way",
    DeliveryStage.COMPLETED: "Delivered",
    DeliveryStage.CANCELLED: "Cancelled",
}
STEPS = [
    ("scheduled", "Scheduled", (DeliveryStage.CREATED, DeliveryStage.RESCHEDULED)),
    ("pickup", "Picking up", (DeliveryStage.HEADED_TO_PICKUP,)),
    ("dropoff", "On the way", (DeliveryStage.HEADED_TO_DROPOFF,)),
    ("delivered", "Delivered", (DeliveryStage.COMPLETED,)),
]


def tracking_page(request: HttpRequest, delivery_id: str) -> HttpResponse:
    try:
        if not VALID_ID.fullmatch(delivery_id):
            raise DeliveryNotFound(delivery_id)
        delivery = selectors.get_delivery(delivery_id)
    except DeliveryNotFound:
        return render(
            request, "deliveries/track_not_found.html", {"delivery_id": delivery_id}, status=404
        )
    status = selectors.delivery_status(delivery_id)
    events = selectors.delivery_events(delivery_id)
    data = {
        "delivery": PublicDeliverySerializer(delivery).data,
        "status": DeliveryStatusSerializer(status).data,
        "events": DeliveryEventSerializer(events, many=True).data,
        "stageText": {stage.value: text for stage, text in STAGE_TEXT.items()},
        "steps": [[key, [stage.value for stage in stages]] for key, _, stages in STEPS],
        "closedStages": [stage.value for stage in CLOSED_STAGES],
        "urls": {
            "stream": reverse("delivery-stream", args=[delivery_id]),
            "status": reverse("delivery-public-status", args=[delivery_id]),
            "events": reverse("delivery-public-events", args=[delivery_id]),
        },
        "pollSeconds": settings.TRACKING_POLL_SECONDS,
    }
    current_step = next(
        (index for index, (_, _, stages) in enumerate(STEPS) if status.stage in stages), -1
    )
    context = {
        "delivery": delivery,
        "status": status,
        "stage_text": STAGE_TEXT[status.stage],
        "steps": [
            {"key": key, "label": label, "css": _step_css(index, current_step, status.stage)}
            for index, (key, label, _) in enumerate(STEPS)
        ],
        "closed": status.stage in CLOSED_STAGES,
        "history": [
            {"text": STAGE_TEXT[event.stage], "stage": event.stage.value, "event": event}
            for event in reversed(events)
        ],
        "data": data,
    }
    response = render(request, "deliveries/track.html", context)
    response["Cache-Control"] = "no-store"
    return response


def _step_css(index: int, current: int, stage: DeliveryStage) -> str:
    """done: behind the delivery (or the delivered step itself); current: where it is now."""
    done = index < current or (index == current and stage == DeliveryStage.COMPLETED)
    return " ".join(name for name, on in (("done", done), ("current", index == current)) if on)
