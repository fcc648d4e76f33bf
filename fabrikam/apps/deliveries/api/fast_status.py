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

import asyncio
import time
import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import Resolver404, ResolverMatch, URLResolver, get_resolver
from redis.exceptions import RedisError, ResponseError
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer

from fabrikam.apps.accounts import rate_limits, throttles
from fabrikam.apps.accounts.authentication import BearerTokenAuthentication, known_principal
from fabrikam.apps.accounts.permissions import HasRequiredScope
from fabrikam.apps.accounts.principal import Principal
from fabrikam.apps.common.middleware import add_content_security_policy, log_request
from fabrikam.apps.deliveries import repository, selectors
from fabrikam.apps.deliveries.api import views
from fabrikam.observability import telemetry
from fabrikam.server.wsgi_bridge import FastAnswer

JSON = "application/json"
# The Accept values DRF answers with JSONRenderer's plain output ("application/json; indent=4"
# would be indented, "text/html" refused): no header, anything, or JSON.
PLAIN_ACCEPT = frozenset({"", "*/*", JSON})
# The middleware whose effect on these reads the fast path reproduces (settings/base.py): with any
# other stack (a middleware added, OpenTelemetry's inserted) it answers nothing, and the tests that
# expect it to answer fail until this is looked at again.
MIDDLEWARE = (
    "fabrikam.apps.common.middleware.ProbeMiddleware",  # not a probe's path
    "fabrikam.apps.common.middleware.RequestLogMiddleware",  # log_request
    "django.middleware.security.SecurityMiddleware",  # called
    "fabrikam.apps.common.middleware.ContentSecurityPolicyMiddleware",  # called
    "whitenoise.middleware.WhiteNoiseMiddleware",  # not a static file's path
    "fabrikam.web.problems.ApiNotFoundMiddleware",  # a 200
    "fabrikam.web.case_insensitive_paths.CaseInsensitivePathMiddleware",  # resolved as sent
    "django.contrib.sessions.middleware.SessionMiddleware",  # no cookie, session untouched
    "django.middleware.common.CommonMiddleware",  # called
    "django.middleware.csrf.CsrfViewMiddleware",  # a GET to a csrf-exempt API view, no cookie
    "django.contrib.auth.middleware.AuthenticationMiddleware",  # lazy, unused
    "django.contrib.messages.middleware.MessageMiddleware",  # no messages
    "django.middleware.clickjacking.XFrameOptionsMiddleware",  # called
)
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


def _unused(request: Any) -> Any:
    raise AssertionError("only the middleware's process_request/process_response are called")


@lru_cache(maxsize=1024)
def _resolve(resolver: URLResolver, path: str) -> ResolverMatch | None:
    """Django's own resolution of `path` (a tracking page polls the same one again and again);
    per resolver, so a test's other URLconf resolves afresh."""
    try:
        return resolver.resolve(path)
    except Resolver404:
        return None


class StatusFastPath:
    def __init__(self) -> None:
        known = tuple(settings.MIDDLEWARE) == MIDDLEWARE
        self.routes = {name: _route(view) for name, view in VIEWS.items()} if known else {}
        self.security = SecurityMiddleware(_unused)
        self.common = CommonMiddleware(_unused)
        self.frames = XFrameOptionsMiddleware(_unused)
        self.renderer = JSONRenderer()
        # REDIS_TIMEOUT for the whole round trip (redis-py's per-read timeout costs a task each)
        self.timeout = settings.CACHES["default"]["OPTIONS"]["SOCKET_TIMEOUT"]
        self.answered = 0  # requests answered here (the tests check that they were)
        self._made_headers: dict[tuple[Any, ...], Any] = {}
        self._connections: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Connections] = (
            weakref.WeakKeyDictionary()
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
        try:  # the SSL redirect, the host and user agent checks: Django's answer
            if self.security.process_request(request) or self.common.process_request(request):
                return None
        except (SuspiciousOperation, PermissionDenied):
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
            # Django's middleware, in the order it handles a response.
            self.frames.process_response(request, response)
            self.common.process_response(request, response)
            add_content_security_policy(response)
            self.security.process_response(request, response)
            headers = [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.items()
            ]
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
        loop = asyncio.get_running_loop()
        connections = self._connections.get(loop)
        if connections is None:
            connections = self._connections[loop] = _Connections(self.timeout)
        return connections.send


def _packed(commands: list[tuple[Any, ...]]) -> list[bytes] | None:
    """The commands in RESP, as redis-py's `pack_commands` writes them for str, bytes and int
    arguments, in less than half its CPU (no encoder call and buffer juggling per argument); None
    when one has another kind of argument or a first argument redis-py would split (it packs
    those)."""
    out = []
    for command in commands:
        if " " in command[0]:
            return None
        out.append(b"*%d\r\n" % len(command))
        for arg in command:
            if isinstance(arg, str):
                arg = arg.encode()
            elif type(arg) is int:
                arg = b"%d" % arg
            elif not isinstance(arg, bytes):
                return None
            out.append(b"$%d\r\n%b\r\n" % (len(arg), arg))
    return [b"".join(out)]


class _Connections:
    """redis.asyncio connections of one event loop. The commands of the reads that start in the
    same turn of the loop go to Redis together, in one write on one connection, and their replies
    are read back in order (redis-py's client and pipeline machinery would cost more CPU than the
    read itself: ≈ 300 against ≈ 110 µs a round trip, round six)."""

    MAX_IDLE = 16
    # Turns of the loop a batch waits for the reads still on their way (requests that arrived in
    # the same wake-up, their tasks not run yet) while the loop has other work ready.
    GATHER_TURNS = 2

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout  # REDIS_TIMEOUT, for a whole exchange
        self.pool = repository.async_client().connection_pool
        self.idle: list[Any] = []
        self.waiting: list[tuple[list[tuple[Any, ...]], asyncio.Future[list[Any]]]] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.turns = 0

    async def send(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        loop = asyncio.get_running_loop()
        answered: asyncio.Future[list[Any]] = loop.create_future()
        if not self.waiting:
            loop.call_soon(self._flush)
        self.waiting.append((commands, answered))
        return await answered

    def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        if self.turns < self.GATHER_TURNS and getattr(loop, "_ready", None):
            self.turns += 1  # one send() wakes Redis for all of them: ≈ 1/4 of a read's CPU
            loop.call_soon(self._flush)
            return
        self.turns = 0
        batch, self.waiting = self.waiting, []
        task = asyncio.get_running_loop().create_task(self._exchange(batch))
        self.tasks.add(task)  # held until done (the loop keeps only a weak reference)
        task.add_done_callback(self.tasks.discard)

    async def _exchange(
        self, batch: list[tuple[list[tuple[Any, ...]], asyncio.Future[list[Any]]]]
    ) -> None:
        connection = self.idle.pop() if self.idle else self.pool.make_connection()
        try:
            async with asyncio.timeout(self.timeout):
                await connection.connect()  # at once when connected already
                flat = [c for commands, _ in batch for c in commands]
                packed = _packed(flat) or connection.pack_commands(flat)
                await connection.send_packed_command(packed, check_health=False)
                for commands, answered in batch:
                    replies = []
                    for _ in commands:
                        try:
                            replies.append(await connection.read_response())
                        except ResponseError as error:  # that command's own error
                            replies.append(error)
                    if not answered.done():  # its request may have timed out
                        answered.set_result(replies)
        except BaseException as error:  # a broken or timed-out exchange: not reused
            await connection.disconnect(nowait=True)
            failed = error if isinstance(error, Exception) else RedisError("cancelled")
            for _, answered in batch:
                if not answered.done():
                    answered.set_exception(failed)
            if not isinstance(error, Exception):
                raise
            return
        if len(self.idle) < self.MAX_IDLE:
            self.idle.append(connection)
        else:
            await connection.disconnect()
