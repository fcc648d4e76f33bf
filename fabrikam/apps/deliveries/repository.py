"""The only code that talks to the deliveries store: Redis, through django-redis's connection.

Keys are namespaced and versioned, `<REDIS_KEY_PREFIX>:{deliveries}:v1:...`. The `{deliveries}`
hash tag puts every key in one hash slot, so the multi-key Lua scripts below also run on a clustered
Redis (Azure Managed Redis, OSS or Enterprise policy).

Per delivery:
  d:<id>   hash      the delivery; short field names (FIELDS) and epoch-ms times keep it a listpack
  ev:<id>  list      its tracking events, oldest first, each "stage|lat,lon,alt|epoch ms"
  cb:<id>  string    the confirmation blob, when one was sent
  nm:<id>  list      notify-me requests (JSON)
  t:<id>   string    tombstone of a cancellation (its time); outlives the 7-day expiry of the rest
  channel ch:<id>    pub/sub: every event and every applied flight update, as the events' lines
Indexes (no KEYS/SCAN on any request path):
  own:<owner>:<yyyy-mm>  zset  deliveries counted in that month's summary; score +inf, or the
                               expiry time once cancelled (a count is ZCOUNT (now +inf)
  om:<owner>             set   the months the owner has deliveries in (admin search by owner)
  all                    zset  every delivery by creation time (admin list)
  st:<stage>             zset  the deliveries in each stage by creation time (admin filter)
  exp                    zset  cancellations by expiry time, so the indexes can drop them

Events are a list rather than a Redis Stream: a stream's first node preallocates 4 KB, which alone
is twice the memory budget of a delivery (bench/delivery_memory.py measures both). The list's
offsets serve as resume points (the tracking stream's event ids), and the channel carries the live
changes to its readers (`subscribe`).

Every write that must happen together (the hash, its events, the indexes) is one Lua script. The
scripts that move a delivery between owner/month indexes check that the month the caller read is
still current, and are retried when it changed in between (optimistic concurrency).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection

from fabrikam.apps.deliveries.records import (
    Confirmation,
    Delivery,
    DeliveryDetails,
    DeliveryStatus,
    FlightUpdate,
    NotifyMeRequest,
    Owner,
    Reschedule,
    TrackingEvent,
    month_of,
)
from fabrikam.contract.enums import ConfirmationType, DeliveryStage
from fabrikam.contract.geo import Location

VERSION = "v1"
HASH_TAG = "{deliveries}"
# Sends a read's commands (added to a pipeline by the function it is given) along with others in
# one round trip, and returns the read's results.
Along = Callable[[Callable[[Any], Any]], list[Any]]
RETRIES = 5  # optimistic-concurrency attempts before giving up
NOTIFY_ME_LIMIT = 20
SCRIPTS_DIR = Path(__file__).with_name("lua")
STAGES = tuple(DeliveryStage)

# Hash field → meaning. Short names: a hash of small values stays a compact listpack.
FIELDS = {
    "o": "owner.userId",
    "a": "owner.accountId",
    "p": "pickup",
    "q": "dropoff",
    "pt": "pickupTime",
    "dl": "deadline",
    "x": "expedited",
    "c": "confirmationRequired",
    "dr": "droneId",
    "pk": "packageId",
    "s": "stage",
    "ca": "createdAt",
    "m": "summary month (pickup month, else creation month)",
    "pe": "pickupETA",
    "de": "deliveryETA",
    "ll": "lastKnownLocation (latest flight update)",
    "tt": "timestamp of the latest flight update",
    "xa": "cancelledAt",
    "r": "reason it was cancelled",
    "ct": "confirmation type",
    "cd": "confirmation dateTime",
    "cg": "confirmation geoCoordinates",
}


class Outcome:
    """What a write script answered: `status` and an optional `detail` (a stage, a time)."""

    def __init__(self, reply: Sequence[bytes]) -> None:
        self.status = reply[0].decode()
        self.detail = reply[1].decode() if len(reply) > 1 and reply[1] else ""

    def __repr__(self) -> str:
        return f"Outcome({self.status!r}, {self.detail!r})"


@dataclass(frozen=True)
class ScriptCall:
    """One script invocation; `execute` runs it, `execute_pipelined` runs many in one round trip."""

    script: str
    keys: list[str]
    args: list[str | int]


# --- keys -----------------------------------------------------------------------------------


def key(*parts: str) -> str:
    return _namespace(settings.REDIS_KEY_PREFIX) + ":".join(parts)


@cache
def _namespace(prefix: str) -> str:
    return f"{prefix}:{HASH_TAG}:{VERSION}:"


def channel(delivery_id: str) -> str:
    """The pub/sub channel of a delivery's status changes (lines as in its events list)."""
    return key("ch", delivery_id)


@cache
def _shared_keys(prefix: str) -> tuple[list[str], list[str]]:
    """(the stage indexes, [all, exp]) under `prefix`."""
    namespace = _namespace(prefix)
    return [namespace + "st:" + stage.value for stage in STAGES], [
        namespace + "all",
        namespace + "exp",
    ]


def _common_keys(delivery_id: str) -> list[str]:
    namespace = _namespace(settings.REDIS_KEY_PREFIX)
    stages, indexes = _shared_keys(settings.REDIS_KEY_PREFIX)
    return [
        *stages,
        namespace + "d:" + delivery_id,
        namespace + "ev:" + delivery_id,
        namespace + "t:" + delivery_id,
        *indexes,
    ]


def _owner_month(owner_id: str, month: str) -> str:
    return key("own", owner_id, month)


# --- encoding -------------------------------------------------------------------------------


def _number(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def encode_location(location: Location) -> str:
    return ",".join(_number(v) for v in (location.latitude, location.longitude, location.altitude))


def decode_location(text: bytes | str) -> Location:
    latitude, longitude, altitude = (float(v) for v in _text(text).split(","))
    return Location(latitude, longitude, altitude)


def encode_time(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def decode_time(value: bytes | str | int) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _optional_time(fields: dict[str, bytes], name: str) -> datetime | None:
    return decode_time(fields[name]) if name in fields else None


def _detail_fields(details: DeliveryDetails) -> tuple[dict[str, str | int], list[str]]:
    """(fields to set, fields to delete) for a PUT; absent optional fields are deleted, except
    the ETAs, which a PUT without them leaves as they are."""
    values: dict[str, str | int | None] = {
        "o": details.owner.user_id,
        "a": details.owner.account_id,
        "p": encode_location(details.pickup),
        "q": encode_location(details.dropoff),
        "pt": encode_time(details.pickup_time) if details.pickup_time else None,
        "dl": encode_time(details.deadline) if details.deadline else None,
        "x": int(details.expedited),
        "c": details.confirmation_required.value,
        "dr": details.drone_id or None,
        "pk": details.package_id or None,
    }
    etas = {"pe": details.pickup_eta, "de": details.delivery_eta}
    values.update({name: encode_time(moment) for name, moment in etas.items() if moment})
    present = {name: value for name, value in values.items() if value is not None}
    return present, [name for name, value in values.items() if value is None]


def _field_args(present: dict[str, str | int], deleted: Iterable[str]) -> list[str | int]:
    return [len(present), *(item for pair in present.items() for item in pair), *deleted]


def _decode(delivery_id: str, raw: dict[bytes, bytes]) -> Delivery:
    fields = {name.decode(): value for name, value in raw.items()}
    last = fields.get("ll")
    return Delivery(
        id=delivery_id,
        owner=Owner(_text(fields["o"]), _text(fields["a"])),
        pickup=decode_location(fields["p"]),
        dropoff=decode_location(fields["q"]),
        pickup_time=_optional_time(fields, "pt"),
        deadline=_optional_time(fields, "dl"),
        expedited=fields.get("x") == b"1",
        confirmation_required=ConfirmationType(_text(fields["c"])),
        drone_id=_text(fields.get("dr", b"")),
        package_id=_text(fields.get("pk", b"")),
        stage=DeliveryStage(_text(fields["s"])),
        created_at=decode_time(fields["ca"]),
        pickup_eta=_optional_time(fields, "pe"),
        delivery_eta=_optional_time(fields, "de"),
        last_location=decode_location(last) if last else None,
        tracked_at=_optional_time(fields, "tt"),
        cancelled_at=_optional_time(fields, "xa"),
        confirmed_at=_optional_time(fields, "cd"),
        reason=_text(fields.get("r", b"")),
    )


def _decode_event(line: bytes) -> TrackingEvent:
    stage, location, at = line.decode().split("|")
    return TrackingEvent(DeliveryStage(stage), decode_location(location), decode_time(at))


# --- scripts --------------------------------------------------------------------------------


def _redis() -> Any:
    return get_redis_connection("default")


@cache
def _source(name: str) -> str:
    if name == "purge":  # stands alone: it touches only the indexes
        return (SCRIPTS_DIR / "purge.lua").read_text()
    slots = ", ".join(f"{stage.value} = {index}" for index, stage in enumerate(STAGES, 1))
    prelude = (SCRIPTS_DIR / "prelude.lua").read_text()
    return f"local STAGE_SLOT = {{{slots}}}\n{prelude}\n{(SCRIPTS_DIR / f'{name}.lua').read_text()}"


@cache
def _script(name: str) -> Any:
    return _redis().register_script(_source(name))


def execute(call: ScriptCall) -> Outcome:
    return Outcome(_script(call.script)(keys=call.keys, args=call.args))


def execute_pipelined(calls: Iterable[ScriptCall]) -> list[Outcome]:
    """Run many independent calls in one round trip (bulk loads, the memory benchmark)."""
    pipeline = _redis().pipeline(transaction=False)
    for call in calls:
        _script(call.script)(keys=call.keys, args=call.args, client=pipeline)
    return [Outcome(reply) for reply in pipeline.execute()]


def _with_current_month(
    delivery_id: str, build: Callable[[str], ScriptCall], first_guess: str | None = None
) -> Outcome:
    """Run the call `build(current_month)` makes, again while the month changed under it; after
    RETRIES attempts the outcome stays `retry`. With `first_guess`, the month is read only if the
    call with that month finds another (the script checks it)."""
    if first_guess is not None:
        outcome = execute(build(first_guess))
        if outcome.status != "retry":
            return outcome
    for _ in range(RETRIES):
        current = _redis().hget(key("d", delivery_id), "m")
        outcome = execute(build(current.decode() if current else ""))
        if outcome.status != "retry":
            break
    return outcome


# --- writes ---------------------------------------------------------------------------------


def upsert_call(
    delivery_id: str, details: DeliveryDetails, current_month: str, now: datetime
) -> ScriptCall:
    # Without a pickup time a delivery stays in the month it was created in.
    month = month_of(details.pickup_time) if details.pickup_time else current_month
    month = month or month_of(now)
    owner = details.owner.user_id
    present, deleted = _detail_fields(details)
    return ScriptCall(
        "upsert",
        [
            *_common_keys(delivery_id),
            _owner_month(owner, month),
            _owner_month(owner, current_month or month),
            key("om", owner),
        ],
        [
            delivery_id,
            encode_time(now),
            channel(delivery_id),
            current_month,
            month,
            owner,
            *_field_args(present, deleted),
        ],
    )


def upsert(delivery_id: str, details: DeliveryDetails, now: datetime) -> Outcome:
    """created | replaced | closed (stage) | owner (the stored owner) | gone (cancelled at).
    Tried first as a new delivery's (no month yet), which the saga's PUT almost always is: one
    round trip instead of a read of the month and the script."""
    return _with_current_month(
        delivery_id, lambda current: upsert_call(delivery_id, details, current, now), ""
    )


def reschedule(delivery_id: str, change: Reschedule, owner_id: str, now: datetime) -> Outcome:
    """rescheduled | closed (stage) | missing | gone (cancelled at)."""
    present: dict[str, str | int] = {}
    if change.pickup:
        present["p"] = encode_location(change.pickup)
    if change.dropoff:
        present["q"] = encode_location(change.dropoff)
    if change.pickup_time:
        present["pt"] = encode_time(change.pickup_time)
    if change.deadline:
        present["dl"] = encode_time(change.deadline)

    def build(current: str) -> ScriptCall:
        month = month_of(change.pickup_time) if change.pickup_time else current
        return ScriptCall(
            "reschedule",
            [
                *_common_keys(delivery_id),
                _owner_month(owner_id, month),
                _owner_month(owner_id, current),
                key("om", owner_id),
            ],
            [
                delivery_id,
                encode_time(now),
                channel(delivery_id),
                current,
                month,
                *_field_args(present, ["dl"] if change.clear_deadline else []),
            ],
        )

    return _with_current_month(delivery_id, build)


def cancel(
    delivery_id: str,
    owner_id: str,
    now: datetime,
    expires_at: datetime,
    forget_at: datetime,
    reason: str = "",
) -> Outcome:
    """cancelled (at) | closed (stage) | missing | gone (cancelled at). The reason is kept
    with the delivery (the first cancellation's)."""

    def build(current: str) -> ScriptCall:
        return ScriptCall(
            "cancel",
            [
                *_common_keys(delivery_id),
                _owner_month(owner_id, current),
                key("cb", delivery_id),
                key("nm", delivery_id),
            ],
            [
                delivery_id,
                encode_time(now),
                channel(delivery_id),
                encode_time(expires_at),
                encode_time(forget_at),
                f"{delivery_id}|{current}|{owner_id}",
                current,
                reason,
            ],
        )

    return _with_current_month(delivery_id, build)


def track_call(delivery_id: str, update: FlightUpdate, now: datetime) -> ScriptCall:
    return ScriptCall(
        "track",
        _common_keys(delivery_id),
        [
            delivery_id,
            encode_time(now),
            channel(delivery_id),
            update.stage.value,
            encode_location(update.location),
            encode_time(update.pickup_eta) if update.pickup_eta else "",
            encode_time(update.delivery_eta) if update.delivery_eta else "",
            encode_time(update.timestamp),
        ],
    )


def track(delivery_id: str, update: FlightUpdate, now: datetime) -> Outcome:
    """applied | stale | ignored (closed stage) | missing | gone."""
    return execute(track_call(delivery_id, update, now))


def confirm_call(delivery_id: str, confirmation: Confirmation, now: datetime) -> ScriptCall:
    return ScriptCall(
        "confirm",
        [*_common_keys(delivery_id), key("cb", delivery_id)],
        [
            delivery_id,
            encode_time(now),
            channel(delivery_id),
            confirmation.confirmation_type.value,
            encode_time(confirmation.date_time),
            encode_location(confirmation.geo_coordinates),
            confirmation.confirmation_blob,
        ],
    )


def confirm(delivery_id: str, confirmation: Confirmation, now: datetime) -> Outcome:
    """confirmed-now | confirmed (before) | type (required type) | closed | missing | gone."""
    return execute(confirm_call(delivery_id, confirmation, now))


def add_notify_me(delivery_id: str, request: NotifyMeRequest, now: datetime) -> Outcome:
    """stored | full | closed (stage) | missing | gone."""
    entry = json.dumps({"e": request.email_address, "s": request.sms}, separators=(",", ":"))
    return execute(
        ScriptCall(
            "notify",
            [*_common_keys(delivery_id), key("nm", delivery_id)],
            [delivery_id, encode_time(now), channel(delivery_id), entry, NOTIFY_ME_LIMIT],
        )
    )


def purge_expired(now: datetime, limit: int = 100) -> int:
    """Drop cancellations whose keys have expired from the indexes; returns how many."""
    redis = _redis()
    members = redis.zrangebyscore(key("exp"), "-inf", encode_time(now), start=0, num=limit)
    purged = 0
    for member in members:
        delivery_id, month, owner_id = member.decode().split("|", 2)
        purged += _script("purge")(
            keys=[
                key("d", delivery_id),
                key("all"),
                key("st", DeliveryStage.CANCELLED.value),
                key("exp"),
                _owner_month(owner_id, month),
            ],
            args=[delivery_id, member],
        )
    return purged


# --- reads ----------------------------------------------------------------------------------


def load(delivery_id: str) -> Delivery | None:
    raw = _redis().hgetall(key("d", delivery_id))
    return _decode(delivery_id, raw) if raw else None


# What a status read needs of the hash (`load_status`): the owner's account, stage, locations,
# ETAs and the cancellation's reason.
STATUS_FIELDS = ("a", "s", "ll", "p", "pe", "de", "r")


def load_status(delivery_id: str, along: Along | None = None) -> tuple[str, DeliveryStatus] | None:
    """The owner's account id and the status of a delivery, read from only the fields they need
    (`load` decodes all of them): the same as `load`'s owner.account_id and status."""
    if along is None:
        values = _redis().hmget(key("d", delivery_id), STATUS_FIELDS)
    else:
        (values,) = along(status_read(delivery_id))
    return decode_status(values)


def status_read(delivery_id: str) -> Callable[[Any], Any]:
    """Adds `load_status`'s one command to a (sync or asyncio) Redis pipeline."""
    name = key("d", delivery_id)
    return lambda pipeline: pipeline.hmget(name, STATUS_FIELDS)


def decode_status(values: list[bytes | None]) -> tuple[str, DeliveryStatus] | None:
    """`load_status`'s answer from what Redis answered `status_read`."""
    account, stage, last, pickup, pickup_eta, delivery_eta, reason = values
    if stage is None:
        return None
    status = DeliveryStatus(
        stage=DeliveryStage(_text(stage)),
        last_known_location=decode_location(last or pickup),
        pickup_eta=decode_time(pickup_eta) if pickup_eta else None,
        delivery_eta=decode_time(delivery_eta) if delivery_eta else None,
        reason=_text(reason or b""),
    )
    return _text(account), status


def load_many(delivery_ids: Sequence[str]) -> list[Delivery]:
    """The stored ones among `delivery_ids`, in that order."""
    pipeline = _redis().pipeline(transaction=False)
    for delivery_id in delivery_ids:
        pipeline.hgetall(key("d", delivery_id))
    return [
        _decode(delivery_id, raw)
        for delivery_id, raw in zip(delivery_ids, pipeline.execute(), strict=True)
        if raw
    ]


def events(delivery_id: str, start: int = 0) -> list[TrackingEvent]:
    """Events from offset `start` (0 = the first), oldest first."""
    return [_decode_event(line) for line in _redis().lrange(key("ev", delivery_id), start, -1)]


def async_client() -> Any:
    """A redis.asyncio client for the event loop: the streams' shared pub/sub connection, and the
    status fast path's reads."""
    from redis import asyncio as redis_asyncio

    return redis_asyncio.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.CACHES["default"]["OPTIONS"]["SOCKET_CONNECT_TIMEOUT"],
        health_check_interval=30,
    )


def subscribe(delivery_id: str, timeout: float = 5.0) -> Any:
    """A pub/sub connection subscribed to the delivery's channel; the caller closes it.

    Returns once Redis confirmed the subscription, so a read made after this call misses nothing:
    whatever changes later is published to this subscriber. Messages are only a nudge to read
    again (the status and events stay the truth); `get_message` yields type "message" ones."""
    pubsub = _redis().pubsub()
    pubsub.subscribe(channel(delivery_id))
    confirmed = pubsub.get_message(timeout=timeout)
    if not confirmed or confirmed["type"] != "subscribe":
        pubsub.close()
        raise TimeoutError(f"Redis did not confirm the subscription within {timeout}s")
    return pubsub


def cancelled_at(delivery_id: str) -> datetime | None:
    """When a cancelled delivery was cancelled, while its tombstone lasts (also after expiry)."""
    value = _redis().get(key("t", delivery_id))
    return decode_time(value) if value else None


def confirmation(delivery_id: str) -> Confirmation | None:
    redis = _redis()
    fields = redis.hmget(key("d", delivery_id), "ct", "cd", "cg")
    if not fields[0]:
        return None
    blob = redis.get(key("cb", delivery_id))
    return Confirmation(
        date_time=decode_time(fields[1]),
        geo_coordinates=decode_location(fields[2]),
        confirmation_type=ConfirmationType(fields[0].decode()),
        confirmation_blob=blob.decode() if blob else "",
    )


def notify_me_requests(delivery_id: str) -> list[NotifyMeRequest]:
    entries = (json.loads(line) for line in _redis().lrange(key("nm", delivery_id), 0, -1))
    return [NotifyMeRequest(entry["e"], entry["s"]) for entry in entries]


def count_in_month(owner_id: str, month: str, now: datetime) -> int:
    """Deliveries of `owner_id` counted in `month` that are stored at `now`."""
    return _redis().zcount(_owner_month(owner_id, month), f"({encode_time(now)}", "+inf")


def page(stage: DeliveryStage | None, start: int, count: int) -> tuple[list[str], int]:
    """Ids of a page of deliveries, newest first, all or in one stage; and the total."""
    index = key("st", stage.value) if stage else key("all")
    pipeline = _redis().pipeline(transaction=False)
    pipeline.zrevrange(index, start, start + count - 1)
    pipeline.zcard(index)
    ids, total = pipeline.execute()
    return [i.decode() for i in ids], total


def owner_delivery_ids(owner_id: str, now: datetime) -> list[str]:
    """Every stored delivery of `owner_id`, across the months it has deliveries in."""
    redis = _redis()
    months = sorted(m.decode() for m in redis.smembers(key("om", owner_id)))
    pipeline = redis.pipeline(transaction=False)
    for month in months:
        pipeline.zrangebyscore(_owner_month(owner_id, month), f"({encode_time(now)}", "+inf")
    return [i.decode() for ids in pipeline.execute() for i in ids]
