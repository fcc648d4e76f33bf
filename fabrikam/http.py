"""The HTTP client every cross-service call goes through.

Each downstream service gets one `ServiceClient` (base URL from settings). Errors come back typed:
`TransientError` (connect/timeout, 408, 429, 5xx: worth retrying later) or `PermanentError` (other
4xx: retrying will not help), each with the status and the problem detail the service sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

TRANSIENT_STATUSES = {408, 429, 500, 502, 503, 504}


class DownstreamError(Exception):
    def __init__(
        self,
        service: str,
        method: str,
        url: str,
        status: int | None,
        detail: str,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{service}: {method} {url} → {status or 'no answer'}: {detail}")
        self.service = service
        self.status = status
        self.detail = detail
        self.retry_after = retry_after


class TransientError(DownstreamError):
    pass


class PermanentError(DownstreamError):
    pass


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or body)
    return str(body)[:300]


@dataclass
class ServiceClient:
    name: str
    base_url: str
    timeout: float = 5.0

    def __post_init__(self) -> None:
        self.session = requests.Session()

    def request(self, method: str, path: str, json: Any = None) -> requests.Response:
        url = self.base_url.rstrip("/") + path
        try:
            response = self.session.request(method, url, json=json, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(self.name, method, url, None, str(exc)) from exc
        if response.status_code < 400:
            return response
        error = TransientError if response.status_code in TRANSIENT_STATUSES else PermanentError
        raise error(
            self.name, method, url, response.status_code, _detail(response), _retry_after(response)
        )

    def put(self, path: str, json: Any) -> requests.Response:
        return self.request("PUT", path, json)

    def patch(self, path: str, json: Any) -> requests.Response:
        return self.request("PATCH", path, json)

    def delete(self, path: str) -> requests.Response:
        return self.request("DELETE", path)

    def get(self, path: str) -> requests.Response:
        return self.request("GET", path)
