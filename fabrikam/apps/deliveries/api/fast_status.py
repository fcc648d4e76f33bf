"""The two status reads answered on gunicorn's event loop: `GET /api/deliveries/{id}/status` with a
business's token and the public `GET /api/deliveries/public/{id}/status` (STATUS_FAST_PATH).

Under gunicorn a request runs in a Django thread, handed over from the event loop and back, and that
thread sleeps through each blocking Redis round trip: for a read whose work is one round trip, the
hand-overs and wake-ups cost more than the read (bench/README.md, round six). Here the same read
is answered where the request was parsed, with one asynchronous round trip (the throttles' hits and
the delivery's fields, as the view sends them), through the same code as the view: the verified
token and client caches of `accounts`, the view's own throttles and their counters, the same
selectors and serializer, DRF's JSON renderer, Django's own security, common and clickjacking
middleware for the headers, the CSP, and the request's log line and metric.

It answers only the plain success case, and only when everything it needs is already in this
process's caches. Anything else returns None and the bridge hands the request to Django
unchanged: another method or HEAD, a query string, a cookie, an Accept that is not plain JSON, a
path Django would resolve elsewhere, no token or one not verified yet, a client not cached yet, a
scope that does not allow it, tracing on in this process, a Redis error, and after the round
trip: no such delivery, another business's, or over a rate. In those last three the throttles'
hits were counted already: the bridge passes the counts on (`rate_limits.COUNTED`) and the view
does not count them again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from django.urls import get_resolver
from redis.exceptions import RedisError
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer

from fabrikam.apps.accounts import rate_limits, throttles
from fabrikam.apps.accounts.authentication import BearerTokenAuthentication, known_principal
from fabrikam.apps.accounts.permissions import HasRequiredScope
from fabrikam.apps.accounts.principal import Principal
from fabrikam.apps.common.fast_answers import JSON, PLAIN_ACCEPT, DjangoEdges, known_middleware
from fabrikam.apps.common.fast_answers import resolve as _resolve
from fabrikam.apps.common.middleware import log_request
from fabrikam.apps.deliveries import repository, selectors
from fabrikam.apps.deliveries.api import views
from fabrikam.observability import telemetry
from fabrikam.server.redis_batches import Connections, PerLoop
from fabrikam.server.wsgi_bridge import FastAnswer

VIEWS = {
    "delivery-status": views.DeliveryStatusView,
    "delivery-public-status": views.PublicDeliveryStatusView,
}


@dataclass(frozen=True)
class _Route:
    view: type[views.DeliveryStatusView]
    public: bool  # AllowAny: anonymous callers; otherwise a token with one of `scopes`
    scopes: frozenset[str]
    allow: str  # DRF's Allow header


def _route(view: type[views.DeliveryStatusView]) -> _Route | None:
    """How the fast path may answer `view`, or None when its security is not the one it knows."""
    if view.authentication_classes != [BearerTokenAuthentication]:
        return None
    public = view.permission_classes == [AllowAny]
    if not public and view.permission_classes != [HasRequiredScope]:
        return None
    scopes = view.required_scopes.get("GET", frozenset())
    instance = view()
    instance.setup(None)  # as `as_view` does: HEAD answered by `get`
    return _Route(view, public, scopes, ", ".join(instance.allowed_methods))


class StatusFastPath:
    def __init__(self) -> None:
        known = known_middleware()
        self.routes = {name: _route(view) for name, view in VIEWS.items()} if known else {}
        self.django = DjangoEdges()
        self.renderer = JSONRenderer()
        # REDIS_TIMEOUT for the whole round trip (redis-py's per-read timeout costs a task each)
        self.timeout = settings.CACHES["default"]["OPTIONS"]["SOCKET_TIMEOUT"]
        self.answered = 0  # requests answered here (the tests check that they were)
        self._made_headers: dict[tuple[Any, ...], Any] = {}
        self._connections = PerLoop(
            lambda: Connections(self.timeout, repository.async_client().connection_pool)
        )

    async def __call__(self, environ: dict[str, Any]) -> FastAnswer | None:
        if (
            environ["REQUEST_METHOD"] != "GET"
            or environ["QUERY_STRING"]
            or "HTTP_COOKIE" in environ
            or environ.get("HTTP_ACCEPT", "") not in PLAIN_ACCEPT
        ):
            return None
        path = environ["PATH_INFO"]
        if not (
            path.startswith("/api/deliveries/") and path.endswith("/status") and path.isascii()
        ):
            return None
        if telemetry.configured():  # Django's instrumentation traces the request: let it
            return None
        match = _resolve(get_resolver(), path)
        route = self.routes.get(match.url_name or "") if match is not None else None
        if route is None:
            return None
        return await self._answer(environ, route, match)

    async def _answer(
        self, environ: dict[str, Any], route: _Route, match: Any
    ) -> FastAnswer | None:
        started = time.perf_counter()
        header = environ.get("HTTP_AUTHORIZATION", "")
        if route.public:
            if header:  # DRF authenticates it even here (a bad token is a 401)
                return None
            principal = None
        else:
            principal = known_principal(header) if header else None
            if principal is None or not principal.scopes & route.scopes:
                return None
        request = WSGIRequest(environ)
        if self.django.refuses(request):  # the SSL redirect, the host and user agent checks
            return None
        request.user = principal  # what the throttles read, as on DRF's request
        found = await self._read(request, route, principal, match.kwargs["delivery_id"])
        if found is None:
            return None
        body = self.renderer.render(views.STATUS.to_representation(found), JSON)
        before, after = self._headers(request, route)
        log_request(request, "/" + match.route, 200, time.perf_counter() - started)
        self.answered += 1
        return FastAnswer(200, [*before, (b"content-length", b"%d" % len(body)), *after], body)

    def _headers(
        self, request: WSGIRequest, route: _Route
    ) -> tuple[list[tuple[bytes, bytes]], list[tuple[bytes, bytes]]]:
        """The headers Django's middleware give this 200, before and after its Content-Length.
        They depend on the route's Allow, whether the request is secure (HSTS) and two settings
        read per response (the rest the middleware read once): made once per combination by the
        middleware themselves, on an empty response, instead of per read."""
        key = (
            route.allow,
            request.is_secure(),
            settings.X_FRAME_OPTIONS,
            settings.CONTENT_SECURITY_POLICY,
        )
        made = self._made_headers.get(key)
        if made is None:
            response = HttpResponse(b"", content_type=JSON)
            response["Allow"] = route.allow
            headers = self.django.headers(request, response)
            at = [name for name, _ in headers].index(b"content-length")
            made = self._made_headers[key] = (headers[:at], headers[at + 1 :])
        return made

    async def _read(
        self, request: WSGIRequest, route: _Route, principal: Principal | None, delivery_id: str
    ) -> Any:
        """The delivery's status, read with the view's throttles' hits in one round trip; None
        when Django must answer (the hits then passed on to it)."""
        rules = route.view().get_throttles()
        if not throttles.deferrable(rules):
            return None
        plans = throttles.plan(request, rules)
        names = throttles.planned_names(plans)
        try:  # within REDIS_TIMEOUT: the exchange that answers it fails it after that
            counts, (values,) = await rate_limits.hit_each_and_read_async(
                self._send(), names, selectors.status_read(delivery_id)
            )
        except (TimeoutError, RedisError, OSError):
            return None
        found = selectors.owner_and_status_from(values)
        if (
            found is None
            or throttles.refusals(plans, list(counts))
            or (principal is not None and not principal.may_act_for(found[0]))
        ):
            request.META[rate_limits.COUNTED] = dict(
                zip((name for name, _ in names), counts, strict=True)
            )
            return None
        return found[1]

    def _send(self) -> rate_limits.Send:
        """This event loop's connections (a test runs several loops; gunicorn's worker one)."""
        return self._connections.send()
