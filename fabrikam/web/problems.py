"""problem+json (RFC 9457) for every error the API answers, mapped once here.

Services raise `DomainError` subclasses (`DeliveryNotFound`, `NoDroneAvailable`, ...); DRF's own
exceptions (validation, parse errors, 405, 415) and Django's 404/500 handlers come out the same way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://fabrikam.example/problems/"

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """An expected failure of a business rule; subclasses set the HTTP mapping."""

    status: int = status.HTTP_400_BAD_REQUEST
    title: str = "Bad request"
    slug: str = "bad-request"
    headers: dict[str, str] = {}

    def __init__(self, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class NotFound(DomainError):
    status = status.HTTP_404_NOT_FOUND
    title = "Not found"
    slug = "not-found"


class Conflict(DomainError):
    status = status.HTTP_409_CONFLICT
    title = "Conflict"
    slug = "conflict"


class Unprocessable(DomainError):
    status = status.HTTP_422_UNPROCESSABLE_ENTITY
    title = "Unprocessable request"
    slug = "unprocessable"


class FieldsDisagree(Unprocessable):
    """Each field is valid alone, together they are not (a deadline before the pickup): what a
    schema cannot say, so 422 rather than the 400 of a field that breaks its own rule."""

    title = "Your request's fields do not fit together"
    slug = "fields-disagree"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, errors={field: [message]})


class ServiceUnavailable(DomainError):
    status = status.HTTP_503_SERVICE_UNAVAILABLE
    title = "Service unavailable"
    slug = "service-unavailable"

    def __init__(self, detail: str = "", retry_after: int = 5, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers = {"Retry-After": str(retry_after)}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than allowed."
    default_code = "payload_too_large"


def problem(
    status_code: int, title: str, detail: str = "", slug: str = "", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug if slug else "about:blank",
        "title": title,
        "status": status_code,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return body


def flatten_errors(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure → {"packageInfo.size": ["..."]}."""
    if isinstance(data, dict):
        out: dict[str, list[str]] = {}
        for key, value in data.items():
            name = "" if key == "non_field_errors" else str(key)
            out.update(
                flatten_errors(value, f"{prefix}.{name}" if prefix and name else prefix or name)
            )
        return out
    if isinstance(data, list) and data and all(isinstance(item, str) for item in data):
        return {prefix or "body": [str(item) for item in data]}
    if isinstance(data, list):
        out = {}
        for index, item in enumerate(data):
            out.update(flatten_errors(item, f"{prefix}[{index}]"))
        return out
    return {prefix or "body": [str(data)]}


def _slug(code: str) -> str:
    return code.replace("_", "-")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        # Django's own body limit, met when DRF reads `request.body`: Django would answer it as a
        # SuspiciousOperation (with DEBUG, an HTML traceback page).
        exc = PayloadTooLarge(
            f"The request body exceeds {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        )
    if isinstance(exc, DomainError):
        body = problem(exc.status, exc.title, exc.detail, exc.slug, **exc.extra)
        return Response(body, status=exc.status, headers=exc.headers, content_type=CONTENT_TYPE)
    # Imported here: rest_framework.views loads the API settings, whose parser imports this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        fields = ", ".join(sorted(errors))
        body = problem(
            response.status_code,
            "Your request has invalid fields",
            f"Invalid: {fields}.",
            "validation",
            errors=errors,
        )
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(exc, "default_code", "error")
        body = problem(
            response.status_code, HTTPStatus(response.status_code).phrase, str(detail), _slug(code)
        )
    response.data = body
    response.content_type = CONTENT_TYPE
    return response


def _json_problem(request: HttpRequest, status_code: int, title: str, detail: str) -> JsonResponse:
    body = problem(status_code, title, detail, _slug(title.lower().replace(" ", "_")))
    return JsonResponse(body, status=status_code, content_type=CONTENT_TYPE)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_problem(request, 404, "Not found", f"No resource at {request.path}.")


def server_error(request: HttpRequest) -> JsonResponse:
    return _json_problem(request, 500, "Server error", "Something failed on our side.")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    if isinstance(exception, RequestDataTooBig):  # Django's own body limit, met outside our parser
        return _json_problem(
            request, 413, "Payload too large", "The request body is larger than allowed."
        )
    return _json_problem(request, 400, "Bad request", str(exception or "Bad request."))


class ApiNotFoundMiddleware:
    """Unknown API paths answer problem+json even with DEBUG on (Django would render its HTML
    debug page for a URL that resolves to nothing)."""

    API_PREFIXES = ("/api/", "/healthz/")

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        response = self.get_response(request)
        if (
            response.status_code == 404
            and request.path.startswith(self.API_PREFIXES)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            return not_found(request)
        return response


def wsgi_problem(
    start_response: Callable[..., Any], status: int, title: str, detail: str, close: bool = False
) -> list[bytes]:
    """A problem answered by WSGI middleware, before Django sees the request."""
    slug = title.lower().replace(" ", "-")
    body = json.dumps(problem(status, title, detail, slug)).encode()
    headers = [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))]
    if close:
        headers.append(("Connection", "close"))
    start_response(f"{status} {title}", headers)
    return [body]
