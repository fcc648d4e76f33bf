"""`POST /api/deliveryrequests` answered on gunicorn's event loop (INGEST_FAST_PATH), as the status
reads are (fabrikam/apps/deliveries/api/fast_status.py).

Under gunicorn a POST runs in a Django thread, handed over from the event loop and back, and that
thread sleeps through two blocking round trips (the throttles' hits with the new delivery's owner,
then the broker's LPUSH). Here the plain success case is answered where the request was parsed,
through the view's own pieces: the verified token and client caches of `accounts`, the view's
scopes and throttles, `fast_validation` for the body, the owner record and message id of the
ingestion's repository, the queue message, trace context and Celery task message of the
publisher, written to the Redis broker as kombu's Redis transport writes it (fabrikam/messaging/
redis_publish.py), DRF's JSON renderer, Django's own middleware for the headers, the log line and
the metric.

The order and the failures are the view's. The throttles' hits and the owner go in one round trip
to the store (REDIS_TIMEOUT); then the message in one round trip to the broker, over the broker
URL's own connection (the transport's socket timeout, as kombu's LPUSH). Before the owner is
written, anything that fails or declines hands the request to Django unchanged, with the hits
passed on (`rate_limits.COUNTED`) when they were counted: over a rate (the owner deleted again,
as the view does), a Redis error or timeout. Once the owner is written the request is answered
here whatever happens: a broker that fails or does not answer in time is the view's 503 (Retry-
After), never a hand-over, which would queue a second message.

Django answers everything else: another method, an Idempotency-Key, a query string, a cookie, an
Accept that is not plain JSON, a Content-Type that is not exactly `application/json`, a body the
fast validation cannot judge or that is invalid (the serializer words the errors), a token or
client not cached, a scope or owner the principal may not act for, tracing on in this process,
another middleware stack, a broker that is not plain Redis (RabbitMQ, Service Bus, TLS), a
broker whose queues could not be declared.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from django.urls import get_resolver
from redis.exceptions import RedisError
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings
from rest_framework.utils import json

from fabrikam.apps.accounts import rate_limits, throttles
from fabrikam.apps.accounts.authentication import BearerTokenAuthentication, known_principal
from fabrikam.apps.accounts.permissions import HasRequiredScope
from fabrikam.apps.accounts.principal import Principal
from fabrikam.apps.common.fast_answers import (
    JSON,
    PLAIN_ACCEPT,
    DjangoEdges,
    known_middleware,
    resolve,
)
from fabrikam.apps.ingestion import messages, publisher, repository, services, tracecontext
from fabrikam.apps.ingestion.api import fast_validation, views
from fabrikam.messaging import broker, redis_publish
from fabrikam.observability import telemetry
from fabrikam.server.redis_batches import Connections, PerLoop
from fabrikam.server.wsgi_bridge import FastAnswer
from fabrikam.web.parsers import MAX_JSON_DEPTH, nested_deeper_than
from fabrikam.web.problems import CONTENT_TYPE as PROBLEM
from fabrikam.web.problems import problem

logger = logging.getLogger(__name__)

URL_NAME = "delivery-requests"
VIEW = views.DeliveryRequestsView


def _allow() -> str | None:
    """DRF's Allow header for the view, or None when its security is not the one known here."""
    if VIEW.authentication_classes != [BearerTokenAuthentication] or VIEW.permission_classes != [
        HasRequiredScope
    ]:
        return None
    instance = VIEW()
    instance.setup(None)
    return ", ".join(instance.allowed_methods)


class RequestsFastPath:
    def __init__(self) -> None:
        usable = (
            known_middleware()
            and broker.kind(settings.CELERY_BROKER_URL) == broker.REDIS
            and not settings.CELERY_BROKER_URL.lower().startswith("rediss")
            and settings.BROKER_REDIS_PIPELINED  # the transport whose writes are known here
            and api_settings.STRICT_JSON
        )
        self.allow = _allow() if usable else None
        self.scopes = VIEW.required_scopes["POST"]
        self.django = DjangoEdges()
        self.renderer = JSONRenderer()
        self.timeout = settings.CACHES["default"]["OPTIONS"]["SOCKET_TIMEOUT"]  # REDIS_TIMEOUT
        # as kombu's LPUSH waits (its socket timeout), for the whole exchange
        self.publish_timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(
            "socket_timeout", settings.BROKER_PUBLISH_TIMEOUT
        )
        self.answered = 0  # requests answered here (the tests check that they were)
        self._store = PerLoop(lambda: Connections(self.timeout, repository.async_pool()))
        self._broker: PerLoop | None = None  # made once the queues are declared
        self._declared: tuple[str, ...] = ()  # the broker and queues declared for the publishes

    async def __call__(self, environ: dict[str, Any]) -> FastAnswer | None:
        if (
            self.allow is None
            or environ["REQUEST_METHOD"] != "POST"
            or environ["QUERY_STRING"]
            or "HTTP_COOKIE" in environ
            or "HTTP_IDEMPOTENCY_KEY" in environ
            or environ.get("CONTENT_TYPE") != JSON
            or environ.get("HTTP_ACCEPT", "") not in PLAIN_ACCEPT
            or telemetry.configured()  # Django's instrumentation traces the request: let it
        ):
            return None
        path = environ["PATH_INFO"]
        if not path.isascii():
            return None
        match = resolve(get_resolver(), path)
        if match is None or match.url_name != URL_NAME:
            return None
        principal = known_principal(environ.get("HTTP_AUTHORIZATION", ""))
        if principal is None or not principal.scopes & self.scopes:
            return None
        validated = _validated(environ["wsgi.input"].getvalue())
        if validated is None or not principal.may_act_for(validated["ownerId"]):
            return None
        return await self._answer(environ, principal, validated, "/" + match.route)

    async def _answer(
        self, environ: dict[str, Any], principal: Principal, validated: dict[str, Any], route: str
    ) -> FastAnswer | None:
        started = time.perf_counter()
        request = WSGIRequest(environ)
        if self.django.refuses(request):  # the SSL redirect, the host and user agent checks
            return None
        request.user = principal  # what the throttles read, as on DRF's request
        send_to_broker = await self._broker_send()
        if send_to_broker is None:
            return None
        delivery_id = services.new_delivery_id()
        if not await self._record_owner(request, delivery_id, validated["ownerId"]):
            return None
        # From here the delivery id is issued: answered here, whatever the broker does.
        message_id = repository.message_id(delivery_id, messages.DELIVERY, repository.FIRST)
        trace = tracecontext.message_headers(
            environ.get("HTTP_TRACEPARENT"), environ.get("HTTP_TRACESTATE")
        )
        echoed = messages.echo(validated)  # rendered once, for the message and the answer
        body, headers, properties = publisher.task_message(
            dict(messages.delivery_message(delivery_id, echoed)), message_id, trace
        )
        queue = settings.DELIVERY_REQUESTS_QUEUE
        push = ("LPUSH", queue, redis_publish.envelope(body, headers, properties, queue))
        try:
            (reply,) = await send_to_broker([push])
            if isinstance(reply, RedisError):
                raise reply
        except (TimeoutError, RedisError, OSError) as exc:
            publisher.logger.warning(
                "publishing %s failed: %s: %s", message_id, type(exc).__name__, exc
            )
            self._declared = ()  # declared again with the next publish, as on a new channel
            return self._finish(request, route, started, self._unavailable())
        accepted = {**echoed, "deliveryId": delivery_id}
        response = HttpResponse(self.renderer.render(accepted), status=202, content_type=JSON)
        response["Location"] = f"/api/deliveries/{delivery_id}"
        self.answered += 1
        return self._finish(request, route, started, response)

    def _finish(
        self, request: WSGIRequest, route: str, started: float, response: HttpResponse
    ) -> FastAnswer:
        response["Allow"] = self.allow or ""
        return self.django.answer(request, response, route, started)

    def _unavailable(self) -> HttpResponse:
        """The view's 503 for BrokerUnavailable, as the exception handler words it."""
        error = publisher.unavailable()
        body = problem(error.status, error.title, error.detail, error.slug, **error.extra)
        response = HttpResponse(
            self.renderer.render(body), status=error.status, content_type=PROBLEM
        )
        for name, value in error.headers.items():
            response[name] = value
        return response

    async def _record_owner(self, request: WSGIRequest, delivery_id: str, owner_id: str) -> bool:
        """The throttles' hits and the new delivery's owner, in one round trip to the store (as
        ThrottledWithWrite sends them); False when Django must answer (the hits then passed on
        to it, the owner deleted again)."""
        rules = VIEW().get_throttles()
        if not throttles.deferrable(rules):
            return False
        plans = throttles.plan(request, rules)
        names = throttles.planned_names(plans)
        send = self._store.send()
        try:  # within REDIS_TIMEOUT: the exchange that answers it fails it after that
            counts, _ = await rate_limits.hit_each_and_read_async(
                send, names, lambda on: repository.record_owner(delivery_id, owner_id, on=on)
            )
        except (TimeoutError, RedisError, OSError):
            return False
        if not throttles.refusals(plans, list(counts)):
            return True
        request.META[rate_limits.COUNTED] = dict(
            zip((name for name, _ in names), counts, strict=True)
        )
        # the id was never issued (or the owner expires with its TTL)
        with contextlib.suppress(TimeoutError, RedisError, OSError):
            await rate_limits.hit_each_and_read_async(
                send, [], lambda on: repository.forget_owner(delivery_id, on=on)
            )
        return False

    async def _broker_send(self) -> Any:
        """This event loop's connections to the broker, the queues declared first (once, in a
        thread, by the publisher as its own publish does); None when that failed."""
        names = (
            settings.CELERY_BROKER_URL,
            settings.DELIVERY_REQUESTS_QUEUE,
            settings.DELIVERY_REQUESTS_DEADLETTER_QUEUE,
        )
        if self._declared != names or self._broker is None:
            loop = asyncio.get_running_loop()
            try:
                connparams = await loop.run_in_executor(None, publisher.declare_for_redis_publisher)
            except Exception as exc:
                logger.info("queues not declared; Django publishes: %s", exc)
                return None
            if self._broker is None or self._declared[:1] != names[:1]:
                pool = redis_publish.async_pool(connparams, settings.BROKER_CONNECT_TIMEOUT)
                self._broker = PerLoop(lambda: Connections(self.publish_timeout, pool))
            self._declared = names
        return self._broker.send()


def _validated(raw: bytes) -> dict[str, Any] | None:
    """What the view validates `raw` into, when DRF's parser reads it and `fast_validation`
    judges it valid; None otherwise (Django then parses and validates it, and words the errors)."""
    if not raw or len(raw) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return None
    if nested_deeper_than(raw, MAX_JSON_DEPTH):
        return None
    try:  # as DRF's JSONParser: UTF-8, no NaN or Infinity
        data = json.loads(raw.decode(), parse_constant=json.strict_constant)
    except (ValueError, RecursionError):
        return None
    return fast_validation.validated_delivery_request(data)
