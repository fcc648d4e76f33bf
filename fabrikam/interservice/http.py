"""The HTTP client every cross-service call goes through.

Each downstream service gets one `ServiceClient` (base URL from settings) with a timeout, a few
quick retries with exponential backoff and jitter on transient failures (connect errors, timeouts,
408, 429 honouring Retry-After, 5xx), a circuit breaker and a bulkhead. Other 4xx are not retried.
Errors come back typed: `TransientError` (worth retrying later) or `PermanentError` (it will not
help), carrying the status and the problem detail the service sent.

In-call retries are kept short on purpose: a workflow task retries longer by re-scheduling itself,
so no task sleeps through a Service Bus message lock (see the workflow's README section).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import requests

from fabrikam.interservice.resilience import (
    Bulkhead,
    BulkheadFull,
    CircuitBreaker,
    CircuitOpen,
    backoff_delay,
)

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
        problem_type: str = "",
        problem: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{service}: {method} {url} → {status or 'no answer'}: {detail}")
        self.service = service
        self.method = method
        self.status = status
        self.detail = detail
        self.retry_after = retry_after
        self.problem_type = problem_type  # the problem+json `type` the service answered, if any
        self.problem = problem or {}  # the whole problem+json body (its extension members too)


class TransientError(DownstreamError):
    """Worth retrying later. `shed` marks a call refused locally (open circuit, full bulkhead):
    retrying it at once would only hammer the same guard."""

    shed: bool = False


class PermanentError(DownstreamError):
    pass


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _problem(response: requests.Response) -> tuple[str, str, dict[str, Any]]:
    """(detail, problem type, body) of an error answer; type and body are empty when it is not a
    problem."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300], "", {}
    if isinstance(body, dict):
        detail = str(body.get("detail") or body.get("title") or body)
        return detail, str(body.get("type") or ""), body
    return str(body)[:300], "", {}


def error_for(service: str, method: str, url: str, answer: Any) -> DownstreamError:
    """The error an answer of 400 or more means: transient (with its Retry-After) or permanent,
    carrying the problem it sent. `answer` is a requests.Response or one read the same way."""
    detail, kind, body = _problem(answer)
    if answer.status_code in TRANSIENT_STATUSES:
        return TransientError(
            service,
            method,
            url,
            answer.status_code,
            detail,
            _retry_after(answer),
            problem_type=kind,
            problem=body,
        )
    return PermanentError(
        service, method, url, answer.status_code, detail, problem_type=kind, problem=body
    )


@dataclass(frozen=True)
class ResiliencePolicy:
    timeout: float = 5.0
    attempts: int = 3  # per call, including the first
    base_delay: float = 0.2
    max_delay: float = 2.0
    breaker_failures: int = 5
    breaker_seconds: float = 30.0
    max_concurrent: int = 10
    bulkhead_wait: float = 1.0


# Every client's session, whose connections stay open between calls (`close_all`).
_sessions: weakref.WeakSet[requests.Session] = weakref.WeakSet()


def close_all() -> None:
    """Close the connections this process's clients keep alive to the services (the next call
    opens new ones): for a process done calling, or a test whose server is going away."""
    for session in list(_sessions):
        session.close()


@dataclass
class ServiceClient:
    name: str
    base_url: str
    policy: ResiliencePolicy = field(default_factory=ResiliencePolicy)
    sleep: Callable[[float], None] = time.sleep
    timeout: float | None = None  # overrides policy.timeout
    # The Authorization header for each call (a service token), asked for per call so an expired
    # token is replaced.
    authorization: Callable[[], str] | None = None

    def __post_init__(self) -> None:
        if self.timeout is not None:
            self.policy = replace(self.policy, timeout=self.timeout)
        self.session = requests.Session()
        _sessions.add(self.session)
        self.breaker = CircuitBreaker(
            self.name, self.policy.breaker_failures, self.policy.breaker_seconds
        )
        self.bulkhead = Bulkhead(self.name, self.policy.max_concurrent, self.policy.bulkhead_wait)

    def request(
        self, method: str, path: str, json: Any = None, headers: dict[str, str] | None = None
    ) -> requests.Response:
        url = self.base_url.rstrip("/") + path
        attempt = 1
        while True:
            try:
                return self._once(method, url, json, headers)
            except TransientError as error:
                if attempt >= self.policy.attempts or error.shed:
                    raise
                self.sleep(
                    backoff_delay(
                        attempt, self.policy.base_delay, self.policy.max_delay, error.retry_after
                    )
                )
                attempt += 1

    def _once(
        self, method: str, url: str, json: Any, headers: dict[str, str] | None
    ) -> requests.Response:
        try:
            self.breaker.before_call()
            if self.authorization is not None:
                headers = {**(headers or {}), "Authorization": self.authorization()}
            with self.bulkhead:
                response = self.session.request(
                    method, url, json=json, headers=headers, timeout=self.policy.timeout
                )
        except (CircuitOpen, BulkheadFull) as exc:
            error = TransientError(self.name, method, url, None, str(exc))
            error.shed = True
            raise error from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            self.breaker.record_failure()
            raise TransientError(self.name, method, url, None, str(exc)) from exc
        if response.status_code in TRANSIENT_STATUSES:
            self.breaker.record_failure()
            raise error_for(self.name, method, url, response)
        self.breaker.record_success()  # the service answered: 4xx is the caller's problem
        if response.status_code >= 400:
            raise error_for(self.name, method, url, response)
        return response

    def put(self, path: str, json: Any) -> requests.Response:
        return self.request("PUT", path, json)

    def patch(self, path: str, json: Any) -> requests.Response:
        return self.request("PATCH", path, json)

    def delete(self, path: str, json: Any = None) -> requests.Response:
        return self.request("DELETE", path, json)

    def get(self, path: str) -> requests.Response:
        return self.request("GET", path)

    def post(self, path: str, json: Any) -> requests.Response:
        return self.request("POST", path, json)


def policy_from_settings() -> ResiliencePolicy:
    from django.conf import settings

    return ResiliencePolicy(
        timeout=settings.HTTP_CLIENT_TIMEOUT,
        attempts=settings.HTTP_RETRY_ATTEMPTS,
        base_delay=settings.HTTP_RETRY_BASE_DELAY,
        max_delay=settings.HTTP_RETRY_MAX_DELAY,
        breaker_failures=settings.CIRCUIT_BREAKER_FAILURES,
        breaker_seconds=settings.CIRCUIT_BREAKER_BREAK_SECONDS,
        max_concurrent=settings.BULKHEAD_MAX_CONCURRENT,
        bulkhead_wait=settings.BULKHEAD_WAIT_SECONDS,
    )


def client_for(
    name: str, base_url: str, authorization: Callable[[], str] | None = None
) -> ServiceClient:
    """A client for service `name` with the resilience settings of this deployment."""
    return ServiceClient(name, base_url, policy_from_settings(), authorization=authorization)
