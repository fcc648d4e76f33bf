"""The fast path of `POST /api/deliveryrequests` (fabrikam/apps/ingestion/api/fast_requests.py):
it answers the plain success case on the server's event loop exactly as Django does, writes the
message kombu writes, and fails as the view fails.

The behaviour tests of tests/ingestion/test_publishing.py and test_request_throttles.py run
through the bridge with and without it (`through_the_bridge`); here, the two side by side on a
Redis broker (the one it writes to itself; with another broker Django answers every POST)."""

from __future__ import annotations

import json
import logging
import re
import uuid
from base64 import b64decode
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from kombu import Connection

from fabrikam.apps.accounts import scopes
from tests.accounts.factories import ApiClientFactory
from tests.ingestion import broker as queue_reader
from tests.ingestion.bridge import BridgedClient, Server
from tests.ingestion.factories import DeliveryRequestFactory
from tests.ingestion.servers import broker_for_test
from tests.support import auth
from tests.support.live import redis_broker_url

pytestmark = [pytest.mark.redis]

URL = "/api/deliveryrequests"
ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def redis_broker(settings, redis_store) -> str:
    """The store's Redis as the broker (CI's default broker is RabbitMQ)."""
    url = redis_broker_url(settings.REDIS_URL)
    settings.CELERY_BROKER_URL = url
    settings.BROKER_KIND = "redis"
    settings.BROKER_REDIS_PIPELINED = True
    return url


@pytest.fixture
def servers(redis_broker, queue, transactional_db) -> Iterator[tuple[Server, Server]]:
    """(with the fast path, without), on the same Redis broker and queue."""
    pair = (Server(True), Server(False))
    yield pair
    for server in pair:
        server.close()


def client(server: Server, token: str | None) -> BridgedClient:
    made = BridgedClient()
    made.server = server
    if token is not None:
        made.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return made


def business_token(owner_id: str, *granted: str) -> str:
    api_client = ApiClientFactory(business__owner_id=owner_id)
    return auth.token(*(granted or (scopes.READ, scopes.WRITE)), client_id=api_client.client_id)


def normalized(response: Any) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers in order and body, with the generated delivery id replaced."""
    headers = [(k, ID.sub("ID", v.decode()).encode()) for k, v in response.raw_headers]
    return response.status_code, headers, ID.sub("ID", response.content.decode()).encode()


def queued_raw(url: str, queue: str) -> list[dict[str, Any]]:
    """The JSON kombu's Redis transport stored on the queue's list, oldest first."""
    with Connection(url) as connection:
        raw = connection.default_channel.client.lrange(queue, 0, -1)
    return [json.loads(item) for item in reversed(raw)]


def test_a_plain_request_is_answered_on_the_event_loop_as_django_answers_it(servers, caplog):
    fast, _django = servers
    token = business_token("contoso")
    body = DeliveryRequestFactory()

    with caplog.at_level(logging.INFO, logger="fabrikam.requests"):
        answers = [client(s, token).post(URL, body, format="json") for s in servers]

    assert fast.answered_fast == 1
    assert answers[0].status_code == 202
    assert normalized(answers[0]) == normalized(answers[1])
    assert answers[0].json()["deliveryId"] != answers[1].json()["deliveryId"]
    lines = [r for r in caplog.records if r.name == "fabrikam.requests"]
    assert [(r.http_method, r.http_route, r.http_path, r.http_status) for r in lines] == [
        ("POST", "/api/deliveryrequests", URL, 202)
    ] * 2


def test_the_message_on_the_broker_is_the_one_kombu_stores(servers, redis_broker, queue):
    fast, _django = servers
    token = business_token("contoso")
    body = DeliveryRequestFactory()
    traceparent = {"traceparent": f"00-{uuid.uuid4().hex}-00f067aa0ba902b7-01"}

    ids = [
        client(s, token).post(URL, body, format="json", headers=traceparent).json()["deliveryId"]
        for s in servers
    ]

    assert fast.answered_fast == 1
    stored = queued_raw(redis_broker, queue)
    assert len(stored) == 2
    for message, delivery_id in zip(stored, ids, strict=True):
        message_id = f"{delivery_id}:delivery:1"
        args, kwargs, embed = json.loads(b64decode(message.pop("body")))
        assert args[0]["deliveryId"] == delivery_id
        args[0]["deliveryId"] = "ID"
        message["body"] = [args, kwargs, embed]
        headers, properties = message["headers"], message["properties"]
        assert headers["id"] == headers["root_id"] == message_id
        assert headers["argsrepr"] == properties["argsrepr"] == f"[{message_id}]"
        assert properties["correlation_id"] == properties["message_id"] == message_id
        assert re.fullmatch(r"[0-9a-f-]{36}", properties.pop("delivery_tag"))
        # Celery's oid of the publishing thread (the loop's, or a Django thread's)
        assert re.fullmatch(r"[0-9a-f-]{36}", properties["reply_to"])
        properties["reply_to"] = "THREAD"
        trace, parent = headers.pop("traceparent").split("-")[1:3]
        assert trace == traceparent["traceparent"].split("-")[1]
        assert parent != "00f067aa0ba902b7"
        for name in ("id", "root_id", "argsrepr"):
            headers[name] = "ID"
        for name in ("correlation_id", "message_id", "argsrepr"):
            properties[name] = "ID"
    assert stored[0] == stored[1]  # every field, key order included, but the unique ones
    assert list(stored[0]["properties"]) == list(stored[1]["properties"])
    received = queue_reader.drain(redis_broker, queue)
    assert [m.body["deliveryId"] for m in received] == ids  # as the workflow reads them


# --- parity: for generated requests, the fast path's answer is Django's ---

TOKENS = ["contoso", "contoso-read-only", "globex", "admin", "bad", None]
valid_bodies = st.builds(
    lambda tag, expedited, confirmation, size: DeliveryRequestFactory(
        packageInfo__tag=tag,
        packageInfo__size=size,
        expedited=expedited,
        confirmationRequired=confirmation,
    ),
    st.sampled_from(["books", "", " spaced ", "ünïcode"]),
    st.booleans(),
    st.sampled_from(["None", "fingerprint", "Picture", "nope"]),
    st.sampled_from(["Small", "LARGE", "huge"]),
)
FIELDS = ["ownerId", "pickupLocation", "dropOffLocation", "pickupTime", "deadline", "packageInfo"]
VALUES = [None, "", "47.6,-122.3", " x ", 5, 1e309, [], {}, {"latitude": 91, "longitude": 0}]
requests = st.fixed_dictionaries(
    {
        "body": valid_bodies,
        "mutations": st.lists(
            st.tuples(st.sampled_from(FIELDS), st.sampled_from(VALUES)), max_size=2
        ),
        "drop": st.lists(st.sampled_from(FIELDS), max_size=1),
        "token": st.sampled_from(TOKENS),
        "content_type": st.sampled_from(
            [
                "application/json",
                "application/json",
                "application/json; charset=utf-8",
                "text/plain",
            ]
        ),
        "accept": st.sampled_from(["", "*/*", "application/json", "text/html"]),
        "key": st.booleans(),
        "traceparent": st.sampled_from([None, "garbage", f"00-{'a' * 32}-{'b' * 16}-01"]),
        "cookie": st.booleans(),
        "query": st.sampled_from(["", "", "a=1"]),
        "raw": st.sampled_from([None, None, None, b"{", b"[]", b'{"ownerId": NaN}']),
        # half the examples: what a client usually sends, which the fast path answers when the
        # body is valid (its tag, size and confirmation still vary, some of them invalid)
        "plain": st.booleans(),
    }
)
PLAIN = {
    "mutations": [],
    "drop": [],
    "content_type": "application/json",
    "key": False,
    "cookie": False,
    "query": "",
    "raw": None,
}


@pytest.fixture
def parity_tokens(servers, settings) -> dict[str, str]:
    settings.THROTTLE_CLIENT_RATE = settings.THROTTLE_IP_RATE = "100000/minute"
    return {
        "contoso": business_token("contoso"),
        "contoso-read-only": business_token("contoso", scopes.READ),
        "globex": business_token("globex"),
        "admin": auth.token(scopes.ADMIN),
        "bad": "not-a-jwt",
    }


@hypothesis_settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(request=requests)
def test_the_fast_path_answers_as_django_does(servers, parity_tokens, request):
    if request["plain"]:
        request = {
            **request,
            **PLAIN,
            "token": request["token"] if request["token"] in ("contoso", "admin") else "contoso",
        }
    body = dict(request["body"])
    for name, value in request["mutations"]:
        body[name] = value
    for name in request["drop"]:
        body.pop(name, None)
    raw = request["raw"] if request["raw"] is not None else json.dumps(body).encode()
    headers: dict[str, str] = {}
    if request["accept"]:
        headers["Accept"] = request["accept"]
    if request["traceparent"]:
        headers["traceparent"] = request["traceparent"]
    if request["cookie"]:
        headers["Cookie"] = "theme=dark"
    token = parity_tokens[request["token"]] if request["token"] else None
    path = f"{URL}?{request['query']}" if request["query"] else URL

    answers = []
    for server in servers:
        if request["key"]:  # a key of each server's own: each is a first request
            headers["Idempotency-Key"] = uuid.uuid4().hex
        answers.append(
            client(server, token).generic(
                "POST", path, raw, content_type=request["content_type"], headers=headers
            )
        )

    assert normalized(answers[0]) == normalized(answers[1])


# --- failures ---


@pytest.fixture
def own_broker(settings, tmp_path: Path, queue, transactional_db) -> Iterator[Any]:
    """A Redis broker of this test's own (a redis-server behind a proxy) that it can take down."""
    shared = settings.CELERY_BROKER_URL
    with broker_for_test("redis", tmp_path) as running:
        settings.CELERY_BROKER_URL = running.url
        settings.BROKER_KIND = "redis"
        settings.BROKER_REDIS_PIPELINED = True
        settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
            **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            "socket_timeout": 1.0,
        }
        yield running
        settings.CELERY_BROKER_URL = shared  # where `queue` deletes its queues


@pytest.mark.parametrize("fault", ["down", "hung"])
def test_a_broker_that_fails_after_the_owner_is_recorded_is_the_views_503(
    own_broker, redis_store, queue, fault
):
    fast, django = Server(True), Server(False)
    token = business_token("contoso")
    try:
        ok = client(fast, token).post(URL, DeliveryRequestFactory(), format="json")
        assert ok.status_code == 202
        assert fast.answered_fast == 1
        own_broker.go_down() if fault == "down" else own_broker.hang()

        refused = [
            client(s, token).post(URL, DeliveryRequestFactory(), format="json")
            for s in (fast, django)
        ]
    finally:
        fast.close()
        django.close()

    assert [r.status_code for r in refused] == [503, 503]
    assert normalized(refused[0]) == normalized(refused[1])
    assert refused[0]["Retry-After"] == "5"
    assert refused[0].json()["type"].endswith("/broker-unavailable")
    # as the view leaves it: the owners of the issued ids recorded, nothing else written
    assert len(redis_store.keys("*ingestion:owner:*")) == 3
    if fault == "hung":
        own_broker.recover()
    else:
        own_broker.come_back()
    assert [m.body["deliveryId"] for m in queue_reader.drain(own_broker.direct_url, queue)] == [
        ok.json()["deliveryId"]
    ]


def test_ingest_fast_path_false_sends_every_post_to_django(settings):
    from fabrikam import asgi
    from fabrikam.apps.ingestion.api.fast_requests import RequestsFastPath

    settings.INGEST_FAST_PATH = False
    assert asgi._ingest_fast_path() is None
    settings.INGEST_FAST_PATH = True
    assert isinstance(asgi._ingest_fast_path(), RequestsFastPath)
