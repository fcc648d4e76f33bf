"""The status reads' fast path (fabrikam/apps/deliveries/api/fast_status.py): the same behaviour
whether the server's event loop answers a read or Django does.

Every request here goes through the server's bridge (fabrikam.server.wsgi_bridge) as gunicorn
calls it, with the fast path (`fast`) or without it (`django`); Django runs in the bridge's threads,
so the data a test makes is committed (transactional_db).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from fabrikam.apps.accounts import scopes
from fabrikam.apps.deliveries.api.fast_status import StatusFastPath
from tests.accounts.factories import ApiClientFactory
from tests.deliveries.factories import DeliveryBodyFactory, delivery_id
from tests.support import asgi, auth

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k == name.lower().encode()]
        return found[0].decode() if found else None

    def json(self) -> Any:
        return json.loads(self.body)


class Server(asgi.Bridge):
    """The bridge as gunicorn's worker calls it, on one event loop."""

    def __init__(self, fast: bool, loop: asyncio.AbstractEventLoop) -> None:
        self.fast_path = StatusFastPath() if fast else None
        super().__init__(loop, self.fast_path)

    @property
    def answered_fast(self) -> int:
        return self.fast_path.answered if self.fast_path is not None else 0

    def get(
        self,
        path: str,
        token: str | None = None,
        headers: list[tuple[str, str]] | None = None,
        method: str = "GET",
        query: str = "",
        scheme: str = "http",
    ) -> Answer:
        scope = _scope(path, token, headers, method, query, scheme)
        return self.loop.run_until_complete(self._call(scope))

    async def _call(self, scope: dict[str, Any]) -> Answer:
        return Answer(*await self.send(scope))


def _scope(
    path: str,
    token: str | None = None,
    headers: list[tuple[str, str]] | None = None,
    method: str = "GET",
    query: str = "",
    scheme: str = "http",
) -> dict[str, Any]:
    """An ASGI request as gunicorn's worker makes it."""
    sent = list(headers or [])
    if not any(name == "host" for name, _ in sent):
        sent.insert(0, ("host", "testserver"))
    if token is not None:
        sent.append(("authorization", f"Bearer {token}"))
    return asgi.scope(method, path, sent, query, scheme)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(params=["fast", "django"])
def server(request, loop) -> Iterator[Server]:
    """The bridge with the fast path (`fast`) or without (`django`)."""
    made = Server(request.param == "fast", loop)
    yield made
    made.close()


@pytest.fixture
def servers(loop) -> Iterator[tuple[Server, Server]]:
    """Both, side by side: (fast, django)."""
    pair = (Server(True, loop), Server(False, loop))
    yield pair
    for made in pair:
        made.close()


def business_token(owner_id: str, *granted: str) -> str:
    client = ApiClientFactory(business__owner_id=owner_id)
    return auth.token(*(granted or (scopes.READ, scopes.WRITE)), client_id=client.client_id)


def new_delivery(owner_id: str = "acme") -> str:
    new_id = delivery_id()
    body = DeliveryBodyFactory(owner={"userId": owner_id, "accountId": owner_id})
    assert (
        auth.api_client().put(f"/api/deliveries/{new_id}", body, format="json").status_code == 201
    )
    return new_id


def read_twice(server: Server, path: str, token: str | None = None, **options: Any) -> Answer:
    """The second answer: the first puts the token and its client in the process's caches."""
    server.get(path, token, **options)
    return server.get(path, token, **options)


def test_a_business_reads_its_delivery_status(server, redis_store):
    token, new_id = business_token("acme"), new_delivery("acme")

    answer = read_twice(server, f"/api/deliveries/{new_id}/status", token)

    assert answer.status == 200
    assert answer.header("content-type") == "application/json"
    assert answer.json()["stage"] == "Created"
    assert answer.header("x-content-type-options") == "nosniff"
    assert answer.header("x-frame-options") == "DENY"
    assert answer.header("content-security-policy") == settings.CONTENT_SECURITY_POLICY
    assert answer.header("content-length") == str(len(answer.body))
    assert server.answered_fast == (1 if server.fast_path is not None else 0)


def test_anyone_reads_the_public_status(server, redis_store):
    new_id = new_delivery("acme")

    answer = read_twice(server, f"/api/deliveries/public/{new_id}/status")

    assert answer.status == 200
    assert answer.json()["stage"] == "Created"
    assert server.answered_fast == (2 if server.fast_path is not None else 0)


def test_another_business_gets_a_404_as_for_a_missing_delivery(server, redis_store):
    acme_delivery = new_delivery("acme")
    token = business_token("fabrikam")

    other = read_twice(server, f"/api/deliveries/{acme_delivery}/status", token)
    missing = server.get(f"/api/deliveries/{delivery_id()}/status", token)

    assert other.status == missing.status == 404
    assert other.header("content-type") == "application/problem+json"
    assert other.json()["status"] == 404
    assert server.answered_fast == 0


def test_a_token_without_a_read_scope_is_refused(server, redis_store):
    new_id = new_delivery("acme")
    token = business_token("acme", scopes.WRITE)

    answer = read_twice(server, f"/api/deliveries/{new_id}/status", token)

    assert answer.status == 403
    assert server.answered_fast == 0


def test_an_invalid_token_is_a_401_even_on_the_public_status(server, redis_store):
    new_id = new_delivery("acme")

    for path in (f"/api/deliveries/{new_id}/status", f"/api/deliveries/public/{new_id}/status"):
        assert read_twice(server, path, "not-a-jwt").status == 401
    assert server.answered_fast == 0


def test_reads_over_the_rate_are_429_and_every_read_counts_once(server, redis_store, settings):
    settings.THROTTLE_CLIENT_RATE = "3/minute"
    own, token = new_delivery("acme"), business_token("acme")
    paths = [f"/api/deliveries/{own}/status", f"/api/deliveries/{delivery_id()}/status"]

    # 200, then 404 (a missing delivery: counted by the event loop, answered by Django), 200
    answers = [server.get(paths[n % 2], token) for n in range(3)]
    refused = server.get(paths[0], token)

    assert [a.status for a in answers] == [200, 404, 200]
    assert refused.status == 429
    assert refused.header("content-type") == "application/problem+json"
    assert 1 <= int(refused.header("retry-after") or 0) <= 60
    (client_counter,) = redis_store.keys("*ratelimit:client:*")
    assert int(redis_store.get(client_counter)) == 4  # one hit per request, whoever answered it
    assert server.answered_fast == (1 if server.fast_path is not None else 0)


def test_each_read_logs_one_line_with_its_route(server, redis_store, caplog):
    token, new_id = business_token("acme"), new_delivery("acme")
    path = f"/api/deliveries/{new_id}/status"
    server.get(path, token)

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="fabrikam.requests"):
        server.get(path, token)

    (line,) = [r for r in caplog.records if r.name == "fabrikam.requests"]
    assert line.getMessage().startswith(f"GET {path} 200 ")
    assert (line.http_method, line.http_route, line.http_path, line.http_status) == (
        "GET",
        "/api/deliveries/<id:delivery_id>/status",
        path,
        200,
    )


def test_a_redis_that_lost_the_throttle_script_still_answers(server, redis_store):
    token, new_id = business_token("acme"), new_delivery("acme")
    path = f"/api/deliveries/{new_id}/status"
    server.get(path, token)
    redis_store.script_flush()

    answer = server.get(path, token)

    assert answer.status == 200
    (client_counter,) = redis_store.keys("*ratelimit:client:*")
    assert int(redis_store.get(client_counter)) == 2


# --- parity: for generated requests, the fast path's answer is Django's ---

ACCEPTS = ["", "*/*", "application/json", "text/html", "application/json; indent=4", "text/*"]
requests = st.fixed_dictionaries(
    {
        "target": st.sampled_from(["own", "other", "missing", "public", "public-missing"]),
        "token": st.sampled_from(["acme", "acme-write-only", "other", "internal", "bad", None]),
        "method": st.sampled_from(["GET", "GET", "GET", "HEAD", "OPTIONS", "POST"]),
        "accept": st.sampled_from(ACCEPTS),
        "query": st.sampled_from(["", "", "format=json", "a=1"]),
        "cookie": st.booleans(),
        "forwarded_for": st.sampled_from([None, "203.0.113.9", "203.0.113.9, 10.0.0.1"]),
        "host": st.sampled_from(["testserver", "testserver", "evil.example"]),
        "mixed_case": st.booleans(),
        "scheme": st.sampled_from(["http", "https"]),  # the headers are made per kind (HSTS)
    }
)


@pytest.fixture
def parity_data(redis_store) -> dict[str, dict[str, str]]:
    """Tokens and deliveries, made once for all of a property test's examples."""
    return {
        "tokens": {
            "acme": business_token("acme"),
            "acme-write-only": business_token("acme", scopes.WRITE),
            "other": business_token("fabrikam"),
            "internal": auth.token(scopes.INTERNAL),
            "bad": "not-a-jwt",
        },
        "paths": {
            "own": f"/api/deliveries/{new_delivery('acme')}/status",
            "other": f"/api/deliveries/{new_delivery('fabrikam')}/status",
            "missing": f"/api/deliveries/{delivery_id()}/status",
            "public": f"/api/deliveries/public/{new_delivery('acme')}/status",
            "public-missing": f"/api/deliveries/public/{delivery_id()}/status",
        },
    }


def ask_both(servers: tuple[Server, Server], path: str, token: str | None, **options: Any):
    """The same request to each server, twice (the first fills the caches): the second answers."""
    return [read_twice(server, path, token, **options) for server in servers]


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(request=requests)
def test_the_fast_path_answers_as_django_does(servers, parity_data, request):
    path = parity_data["paths"][request["target"]]
    if request["mixed_case"]:
        path = path.replace("/deliveries/", "/Deliveries/")
    headers = [("host", request["host"])]
    if request["accept"]:
        headers.append(("accept", request["accept"]))
    if request["cookie"]:
        headers.append(("cookie", "theme=dark"))
    if request["forwarded_for"]:
        headers.append(("x-forwarded-for", request["forwarded_for"]))
    token = parity_data["tokens"][request["token"]] if request["token"] else None

    fast, django = ask_both(
        servers,
        path,
        token,
        headers=headers,
        method=request["method"],
        query=request["query"],
        scheme=request["scheme"],
    )

    assert fast == django


@pytest.mark.parametrize("target", ["own", "public"])
def test_the_plain_reads_are_answered_fast_and_as_django_does(servers, parity_data, target):
    token = parity_data["tokens"]["acme"] if target == "own" else None
    path = parity_data["paths"][target]
    headers = [("accept", "application/json"), ("x-forwarded-for", "203.0.113.9")]

    fast, django = ask_both(servers, path, token, headers=headers)

    assert fast.status == 200
    assert fast == django
    assert servers[0].answered_fast >= 1


def test_reads_at_once_each_get_their_own_delivery(servers, redis_store):
    """Reads that start together share one write to Redis (fast path): each still gets its own."""
    fast, django = servers
    token = business_token("acme")
    ids = [new_delivery("acme") for _ in range(6)]
    for new_id in ids[::2]:  # every other one cancelled: two different answers
        auth.api_client().delete(f"/api/deliveries/{new_id}", {"reason": "r"}, format="json")
    paths = [f"/api/deliveries/{new_id}/status" for new_id in ids for _ in range(3)]
    expected = [django.get(path, token) for path in paths]
    before = fast.answered_fast  # the token and its client cached by the reads above

    async def all_at_once() -> list[Answer]:
        return list(await asyncio.gather(*(fast._call(_scope(path, token)) for path in paths)))

    answers = fast.loop.run_until_complete(all_at_once())

    assert answers == expected
    assert {a.json()["stage"] for a in answers} == {"Created", "Cancelled"}
    assert fast.answered_fast - before == len(paths)


def test_with_a_middleware_it_does_not_know_django_answers_every_read(loop, settings, redis_store):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.middleware.gzip.GZipMiddleware"]
    server = Server(True, loop)
    token, new_id = business_token("acme"), new_delivery("acme")
    try:
        answer = read_twice(server, f"/api/deliveries/{new_id}/status", token)
    finally:
        server.close()

    assert answer.status == 200
    assert server.answered_fast == 0


def test_reads_still_answer_after_redis_dropped_every_connection(server, redis_store):
    """As after a Redis restart: the fast path's idle connections are dead; the read that finds
    one broken goes to Django, and the next ones are answered fast again."""
    token, new_id = business_token("acme"), new_delivery("acme")
    path = f"/api/deliveries/{new_id}/status"
    read_twice(server, path, token)
    redis_store.client_kill_filter(_type="normal", skipme=True)
    before = server.answered_fast

    answers = [server.get(path, token) for _ in range(3)]

    assert [a.status for a in answers] == [200, 200, 200]
    if server.fast_path is not None:
        assert server.answered_fast - before == 2  # the first went to Django
