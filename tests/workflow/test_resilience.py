"""The resilience policy of every cross-service call, checked by state with an injected clock."""

from __future__ import annotations

import pytest

from fabrikam.interservice.http import (
    PermanentError,
    ResiliencePolicy,
    ServiceClient,
    TransientError,
    close_all,
)
from fabrikam.interservice.resilience import (
    BreakerState,
    Bulkhead,
    BulkheadFull,
    CircuitBreaker,
    CircuitOpen,
    backoff_delay,
)
from tests.support.clock import FakeClock
from tests.support.faulty_proxy import Fault, FaultyProxy
from tests.support.http_server import QuietHandler, serving


def test_the_breaker_opens_after_the_configured_consecutive_failures():
    breaker = CircuitBreaker("package", failure_threshold=3, break_seconds=30, clock=FakeClock())
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpen, match="circuit to package is open"):
        breaker.before_call()


def test_a_success_resets_the_failure_count():
    breaker = CircuitBreaker("package", failure_threshold=2, break_seconds=30, clock=FakeClock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def test_after_the_break_one_trial_call_closes_the_breaker_on_success():
    clock = FakeClock()
    breaker = CircuitBreaker("delivery", failure_threshold=1, break_seconds=30, clock=clock)
    breaker.record_failure()
    clock.now += 29.9
    with pytest.raises(CircuitOpen):
        breaker.before_call()
    clock.now += 0.2
    breaker.before_call()  # the trial
    assert breaker.state is BreakerState.HALF_OPEN
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # only one trial at a time
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    breaker.before_call()


def test_a_failed_trial_opens_the_breaker_for_another_break():
    clock = FakeClock()
    breaker = CircuitBreaker("delivery", failure_threshold=5, break_seconds=10, clock=clock)
    for _ in range(5):
        breaker.record_failure()
    clock.now += 10
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.now += 9
    with pytest.raises(CircuitOpen):
        breaker.before_call()


def test_the_bulkhead_bounds_concurrent_calls():
    bulkhead = Bulkhead("package", limit=2, wait_seconds=0)
    with bulkhead, bulkhead, pytest.raises(BulkheadFull), bulkhead:
        pass
    with bulkhead:
        pass  # slots are given back


@pytest.mark.parametrize("attempt", [1, 2, 3, 8])
def test_backoff_is_exponential_with_jitter_and_capped(attempt):
    low = backoff_delay(attempt, base=0.5, cap=4, rng=lambda: 0.0)
    high = backoff_delay(attempt, base=0.5, cap=4, rng=lambda: 1.0)
    expected = min(4, 0.5 * 2 ** (attempt - 1))
    assert (low, high) == (expected / 2, expected)


def test_retry_after_wins_when_longer():
    assert backoff_delay(1, base=0.1, cap=1, retry_after=7, rng=lambda: 1.0) == 7


class OkHandler(QuietHandler):
    def _ok(self) -> None:
        self.send_json(200, {"ok": True})

    do_GET = do_PUT = _ok


@pytest.fixture
def upstream():
    with serving(OkHandler) as url:
        proxy = FaultyProxy(url)
        yield proxy
        proxy.close()


def client(proxy: FaultyProxy, delays: list[float], **policy: float) -> ServiceClient:
    settings = {"attempts": 3, "base_delay": 0.1, "max_delay": 1.0, **policy}
    return ServiceClient("package", proxy.url, ResiliencePolicy(**settings), sleep=delays.append)


def test_transient_failures_are_retried_until_success(upstream):
    upstream.add(Fault("PUT", "/api/packages/p1", status=503, times=2))
    delays: list[float] = []
    response = client(upstream, delays).put("/api/packages/p1", {"size": "Small"})
    assert response.json() == {"ok": True}
    assert upstream.calls("PUT", "/api/packages/p1") == [503, 503, 200]
    assert len(delays) == 2
    assert delays[1] >= 0.1  # the second wait is the longer one's floor


def test_429_honours_retry_after(upstream):
    upstream.add(Fault("GET", "/x", status=429, times=1))
    delays: list[float] = []
    client(upstream, delays, max_delay=0.5).get("/x")
    # FaultyProxy sends no Retry-After, so the policy's own delay is used
    assert 0.05 <= delays[0] <= 0.1


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_other_client_errors_are_not_retried(upstream, status):
    upstream.add(Fault("PUT", "/api/dronedeliveries/d1", status=status))
    with pytest.raises(PermanentError) as raised:
        client(upstream, []).put("/api/dronedeliveries/d1", {})
    assert raised.value.status == status
    assert upstream.calls("PUT", "/api/dronedeliveries/d1") == [status]


def test_retries_stop_at_the_configured_attempts(upstream):
    upstream.add(Fault("PUT", "/api/deliveries/d1", status=500))
    with pytest.raises(TransientError) as raised:
        client(upstream, [], attempts=2).put("/api/deliveries/d1", {})
    assert raised.value.status == 500
    assert upstream.calls("PUT", "/api/deliveries/d1") == [500, 500]


def test_an_open_circuit_refuses_calls_without_reaching_the_service(upstream):
    upstream.add(Fault("GET", "/y", status=503))
    service = client(upstream, [], attempts=1, breaker_failures=2, breaker_seconds=60)
    for _ in range(2):
        with pytest.raises(TransientError):
            service.get("/y")
    with pytest.raises(TransientError, match="circuit to package is open") as raised:
        service.get("/y")
    assert raised.value.shed
    assert len(upstream.calls("GET", "/y")) == 2


class KeepAliveHandler(QuietHandler):
    protocol_version = "HTTP/1.1"  # connections stay open between requests
    ports: list[int] = []

    def do_GET(self) -> None:
        self.ports.append(self.client_address[1])
        self.send_json(200, {"ok": True})


def test_a_client_keeps_its_connection_until_close_all_closes_it():
    KeepAliveHandler.ports = []
    with serving(KeepAliveHandler) as url:
        kept = ServiceClient("package", url, ResiliencePolicy(attempts=1))
        kept.get("/a")
        kept.get("/b")
        close_all()
        kept.get("/c")
    first, second, third = KeepAliveHandler.ports
    assert first == second  # one connection, kept alive
    assert third != first  # closed by close_all; the next call opened a new one
