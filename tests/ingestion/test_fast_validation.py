"""The fast path beside DeliveryRequestSerializer (fabrikam/apps/ingestion/api/fast_validation.py)
accepts only what the serializer accepts, and gives the same validated data, types included."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from fabrikam.apps.ingestion.api import views
from fabrikam.apps.ingestion.api.fast_validation import validated_delivery_request
from fabrikam.apps.ingestion.api.serializers import DeliveryRequestSerializer
from fabrikam.contract.geo import Location
from fabrikam.web.problems import FieldsDisagree
from tests.ingestion.factories import DeliveryRequestFactory

URL = "/api/deliveryrequests"
ABSENT = object()


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down and the same key order (the 202 echoes it)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, Location):
        return same(a.as_dict(), b.as_dict())
    if isinstance(a, datetime):
        return a == b and a.utcoffset() == b.utcoffset() and a.tzinfo == b.tzinfo
    if isinstance(a, float):
        return repr(a) == repr(b)  # -0.0 is not 0.0 in the echoed JSON
    return a == b


def by_serializer(body: Any) -> dict[str, Any] | None:
    serializer = DeliveryRequestSerializer(data=body)
    try:
        return serializer.validated_data if serializer.is_valid() else None
    except FieldsDisagree:  # the deadline before the pickup: a 422
        return None


def texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=140),
        st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=130),
        st.sampled_from(["", " ", "a ", " a", "a\n", "\x00", "naïve", "x" * 100, "x" * 101]),
        st.sampled_from(["x" * 128, "x" * 129, "pkg-1", "pkg 1", "contoso", "İ", "\u212a"]),
    )


def numbers() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.floats(),
        st.integers(),
        st.integers(min_value=-200, max_value=200),
        st.floats(min_value=-200, max_value=200),
        st.sampled_from([0, 0.0, -0.0, 0.001, 0.0009, 100, 100.0, 100.5, 90, -90.0, 180, 2**60]),
        st.sampled_from([True, False, None, "1.5", 10**400]),
    )


def coordinate_texts() -> st.SearchStrategy[str]:
    part = st.one_of(
        st.floats(min_value=-200, max_value=200).map(repr),
        st.integers(min_value=-200, max_value=200).map(str),
        st.sampled_from(["1e1", "nan", "-0", "00.5", "90.0", "-180.00", "", "+1"]),
    )
    gap = st.sampled_from(["", " ", "  "])
    return st.one_of(
        st.builds(lambda a, b, s1, s2: f"{s1}{a}{s2},{s1}{b}{s2}", part, part, gap, gap),
        st.builds(lambda a, b, c: f"{a},{b},{c}", part, part, part),
        st.builds(lambda a, b: f"{a},{b}\n", part, part),
        texts(),
    )


def locations() -> st.SearchStrategy[Any]:
    return st.one_of(
        coordinate_texts(),
        st.fixed_dictionaries(
            {"latitude": numbers(), "longitude": numbers()},
            optional={"altitude": numbers(), "extra": st.just(1)},
        ),
        numbers(),
        st.just([47.6, -122.3]),
    )


def timestamps() -> st.SearchStrategy[Any]:
    moments = st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    )
    return st.one_of(
        moments.map(lambda t: t.isoformat()),
        moments.map(lambda t: t.isoformat().replace("+00:00", "Z")),
        moments.map(lambda t: t.replace(tzinfo=None).isoformat()),
        moments.map(lambda t: t.astimezone(UTC).strftime("%Y-%m-%d %H:%M")),
        moments.map(lambda t: t.astimezone(timezone_of(5)).isoformat()),
        moments.map(lambda t: int(t.timestamp() * 1000)),
        st.integers(),
        st.sampled_from(["", "2026-12-01", "2026-02-30T10:00:00Z", "tomorrow", None, True]),
        st.sampled_from(["2026-12-01T10:00:00Z", "2026-12-01T09:59:59Z", 1764583200000]),
    )


def timezone_of(hours: int) -> Any:
    from datetime import timezone

    return timezone(timedelta(hours=hours))


def field(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's value, or null, or absent."""
    return st.one_of(strategy, st.just(None), st.just(ABSENT))


def choices(values: list[str]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(values),
        st.sampled_from(values).map(str.lower),
        st.sampled_from(values).map(str.upper),
        st.sampled_from(values).map(lambda v: f" {v} "),
        texts(),
        numbers(),
    )


def present(draft: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in draft.items() if v is not ABSENT}


PACKAGE_USUAL = {
    "packageId": st.sampled_from(["pkg-1", "PKG_2.x", "p" * 128]),
    "size": st.sampled_from(["Small", "medium", "LARGE"]),
    "weight": st.one_of(st.floats(min_value=0.001, max_value=100), st.integers(1, 100)),
    "tag": st.sampled_from(["books", "", "a b", None, ABSENT]),
    "unknown": st.just(ABSENT),
}
PACKAGE_ANYTHING = {
    "packageId": field(st.one_of(texts(), numbers())),
    "size": field(choices(["Small", "Medium", "Large"])),
    "weight": field(numbers()),
    "tag": field(st.one_of(texts(), numbers())),
    "unknown": st.just(1),
}


@st.composite
def package_fields(draw: st.DrawFn) -> dict[str, Any]:
    """A plausible packageInfo with up to two of its fields replaced by anything."""
    mutated = draw(st.sets(st.sampled_from(sorted(PACKAGE_USUAL)), max_size=2))
    return present(
        {
            name: draw(PACKAGE_ANYTHING[name] if name in mutated else usual)
            for name, usual in PACKAGE_USUAL.items()
        }
    )


USUAL = {
    "ownerId": st.sampled_from(["contoso", "fabrikam-42", "Owner With Spaces", "x" * 128]),
    "pickupLocation": st.one_of(
        st.sampled_from(["47.6097,-122.3331", "-90,180", "0,0", "-0.5,-179.999"]),
        st.builds(lambda a, b: f"{a},{b}", st.integers(-90, 90), st.integers(-180, 180)),
    ),
    "dropOffLocation": st.fixed_dictionaries(
        {
            "latitude": st.one_of(st.floats(-90, 90), st.integers(-90, 90)),
            "longitude": st.one_of(st.floats(-180, 180), st.integers(-180, 180)),
        },
        optional={"altitude": st.one_of(st.floats(-500, 20000), st.integers(-500, 20000))},
    ),
    "pickupTime": st.sampled_from(["2026-12-01T10:00:00Z", "2026-12-01T10:00:00", 1764583200000]),
    "deadline": st.sampled_from(["2026-12-01T12:00:00+00:00", "", None, ABSENT]),
    "expedited": st.sampled_from([True, False, None, ABSENT]),
    "confirmationRequired": st.sampled_from(["None", "voice", "PICTURE", None, ABSENT]),
    "packageInfo": package_fields(),
    "deliveryId": st.sampled_from([ABSENT, "ignored"]),
}
ANYTHING = {
    "ownerId": field(st.one_of(texts(), numbers())),
    "pickupLocation": field(locations()),
    "dropOffLocation": field(locations()),
    "pickupTime": field(timestamps()),
    "deadline": field(timestamps()),
    "expedited": field(st.one_of(st.booleans(), numbers(), texts())),
    "confirmationRequired": field(choices(["FingerPrint", "Picture", "Voice", "None"])),
    "packageInfo": field(st.one_of(texts(), numbers())),
    "deliveryId": texts(),
}


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A plausible body with a few of its fields (or its packageInfo's) replaced by anything."""
    mutated = draw(st.sets(st.sampled_from(sorted(USUAL)), max_size=3))
    return present(
        {name: draw(ANYTHING[name] if name in mutated else USUAL[name]) for name in USUAL}
    )


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies())
@example(DeliveryRequestFactory())
@example(DeliveryRequestFactory(deadline="2026-12-01T09:00:00Z"))
@example(DeliveryRequestFactory(pickupLocation="47.6, -122.3"))
@example(DeliveryRequestFactory(dropOffLocation={"latitude": 1, "longitude": 2, "altitude": -0.0}))
def test_the_fast_path_accepts_only_what_the_serializer_accepts_and_gives_the_same_data(body):
    fast = validated_delivery_request(body)
    expected = by_serializer(body)
    event("fast path" if fast is not None else "serializer")
    if fast is not None:
        assert expected is not None, "the fast path accepted what the serializer refuses"
        assert same(fast, expected), (fast, expected)


@pytest.mark.parametrize(
    "body",
    [
        DeliveryRequestFactory(),
        DeliveryRequestFactory(deadline=None, confirmationRequired="voice", expedited=True),
        DeliveryRequestFactory(pickupTime=1764583200000, deadline=""),
        DeliveryRequestFactory(packageInfo__tag=None, packageInfo__size="LARGE"),
        DeliveryRequestFactory(dropOffLocation={"latitude": 1, "longitude": 2, "altitude": 120}),
        {k: v for k, v in DeliveryRequestFactory().items() if k not in ("deadline", "expedited")},
    ],
)
def test_usual_bodies_take_the_fast_path(body):
    fast = validated_delivery_request(json.loads(json.dumps(body)))
    assert fast is not None
    assert same(fast, by_serializer(body))


def test_a_usual_request_is_accepted_without_building_the_serializer(api, received, monkeypatch):
    class Refusing(DeliveryRequestSerializer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise AssertionError("the serializer was built")

    monkeypatch.setattr(views, "DeliveryRequestSerializer", Refusing)
    response = api.post(URL, DeliveryRequestFactory(), format="json")
    assert response.status_code == 202, response.content
    (message,) = received()
    assert message.body["ownerId"] == "contoso"
