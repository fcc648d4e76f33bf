"""Clients for the three services the saga calls, over HTTP as in the microservice deployment."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings

from fabrikam.http import ServiceClient


@cache
def _client(name: str, base_url: str) -> ServiceClient:
    return ServiceClient(name, base_url, timeout=settings.HTTP_CLIENT_TIMEOUT)


def packages() -> ServiceClient:
    return _client("package", settings.SERVICE_URL_PACKAGE)


def dronescheduler() -> ServiceClient:
    return _client("dronescheduler", settings.SERVICE_URL_DRONESCHEDULER)


def deliveries() -> ServiceClient:
    return _client("delivery", settings.SERVICE_URL_DELIVERY)


def put_package(package_id: str, body: dict[str, Any]) -> None:
    packages().put(f"/api/packages/{package_id}", body)


def assign_drone(delivery_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return dronescheduler().put(f"/api/dronedeliveries/{delivery_id}", body).json()


def put_delivery(delivery_id: str, body: dict[str, Any]) -> None:
    deliveries().put(f"/api/deliveries/{delivery_id}", body)
