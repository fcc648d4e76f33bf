"""Calling the package, drone scheduler and delivery contexts inside this process, for a process
that serves them too (the `all` role of `make run`; `roles.calls_in_process`): each call runs the
context's own function for it (`fabrikam/apps/<context>/api/calls.py`), which reads the contract's
body with the view's request serializer (built once) and calls the service function the view calls;
no request, view or per-call serializer is built. The contexts never import each other, so the
functions are named here by their dotted paths, as the URL configuration names the views.

What a context raises is answered by the views' exception handler (`problems.exception_handler`,
each context's `exceptions.py`) and read by `interservice.http.error_for`, so a refusal reaches the
saga as the same `TransientError` or `PermanentError` (status, problem type, detail, problem
members) as over HTTP; anything else is the 500 Django would answer.

No token is checked: the caller is the workflow worker itself, in the same process and with the
workflow's own identity, calling a function; a token here could only ever be its own. The HTTP
path (`ServiceClient`, separate deployments) still sends the service token and the views check
its scope.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponseBase
from django.utils.module_loading import import_string
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from fabrikam.contract.bodies import (
    DeliveryCancel,
    DeliveryPut,
    DeliveryReschedule,
    DroneAssigned,
    DroneAssignment,
    PackagePut,
    RouteChange,
)
from fabrikam.contract.ids import ID_REGEX
from fabrikam.interservice.http import error_for  # read an answer as ServiceClient reads it
from fabrikam.web import problems

logger = logging.getLogger(__name__)

ID = re.compile(ID_REGEX)  # the URL converter's rule for a resource id


@cache
def _function(dotted_path: str) -> Callable[..., Any]:
    return import_string(dotted_path)


class InProcessAnswer:
    """An error answer as `error_for` reads it (`requests.Response`'s names)."""

    def __init__(self, response: HttpResponseBase, content: bytes) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


def _request(method: str, path: str) -> HttpRequest:
    request = HttpRequest()
    request.method, request.path = method, path
    return request


def _answer_to(exc: Exception, method: str, path: str) -> InProcessAnswer:
    """What the view (or Django, for an unexpected failure) answers when `exc` is raised."""
    handled = problems.exception_handler(exc, {})
    if isinstance(handled, Response):
        return InProcessAnswer(handled, JSONRenderer().render(handled.data))
    logger.error("in-process %s %s failed", method, path, exc_info=exc)  # a 500 over HTTP
    close_old_connections()  # a broken connection is not reused by the next call
    response = problems.server_error(_request(method, path))
    return InProcessAnswer(response, response.content)


def _call(service: str, method: str, path: str, resource_id: str, function: str, *args: Any) -> Any:
    url = f"in-process:{path}"
    if ID.fullmatch(resource_id) is None:  # no view takes the path: Django's 404
        response = problems.not_found(_request(method, path))
        raise error_for(service, method, url, InProcessAnswer(response, response.content))
    try:
        return _function(function)(resource_id, *args)
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:
        raise error_for(service, method, url, _answer_to(exc, method, path)) from exc


PACKAGES = "fabrikam.apps.packages.api.calls."
DRONESCHEDULER = "fabrikam.apps.dronescheduler.api.calls."
DELIVERIES = "fabrikam.apps.deliveries.api.calls."


def put_package(package_id: str, body: PackagePut) -> None:
    path = f"/api/packages/{package_id}"
    _call("package", "PUT", path, package_id, PACKAGES + "put_package", body)


def mark_package(package_id: str, owner_id: str, delivery_state: str) -> None:
    path = f"/api/packages/{package_id}"
    _call("package", "PATCH", path, package_id, PACKAGES + "mark_package", owner_id, delivery_state)


def assign_drone(delivery_id: str, body: DroneAssignment) -> DroneAssigned:
    path = f"/api/dronedeliveries/{delivery_id}"
    return _call("dronescheduler", "PUT", path, delivery_id, DRONESCHEDULER + "assign_drone", body)


def replan_drone(delivery_id: str, body: RouteChange) -> dict[str, Any]:
    path = f"/api/dronedeliveries/{delivery_id}"
    return _call(
        "dronescheduler", "PATCH", path, delivery_id, DRONESCHEDULER + "replan_drone", body
    )


def release_drone(delivery_id: str) -> None:
    path = f"/api/dronedeliveries/{delivery_id}"
    _call("dronescheduler", "DELETE", path, delivery_id, DRONESCHEDULER + "release_drone")


def put_delivery(delivery_id: str, body: DeliveryPut) -> None:
    path = f"/api/deliveries/{delivery_id}"
    _call("delivery", "PUT", path, delivery_id, DELIVERIES + "put_delivery", body)


def reschedule_delivery(delivery_id: str, body: DeliveryReschedule) -> None:
    path = f"/api/deliveries/{delivery_id}"
    _call("delivery", "PATCH", path, delivery_id, DELIVERIES + "reschedule_delivery", body)


def cancel_delivery(delivery_id: str, body: DeliveryCancel | None) -> None:
    path = f"/api/deliveries/{delivery_id}"
    _call("delivery", "DELETE", path, delivery_id, DELIVERIES + "cancel_delivery", body)
