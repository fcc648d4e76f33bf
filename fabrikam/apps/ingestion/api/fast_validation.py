"""A fast path beside `DeliveryRequestSerializer` for the bodies clients usually send.

The serializer stays the authority: the OpenAPI schema and every error message come from it. But
building one deep-copies its declared fields (and each location builds a nested serializer), which
cost about half a millisecond of CPU per POST, more than the rest of the validation. Here a body
whose every field is in a plain, unambiguous form (ASCII ids without surrounding spaces, numbers
as JSON numbers within range, "lat,lon" without spaces, ISO-8601 times the serializer's own field
parses) is validated directly into the same validated data, the same types included. Anything
else (a missing or null required field, a string to trim, a value out of range, a deadline before
the pickup, a type the rule does not name) returns None, and the view falls back to the
serializer, so every error, and every corner the rules below do not cover, is the serializer's.

`tests/ingestion/test_fast_validation.py` holds the two equal over generated and mutated bodies.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from rest_framework.exceptions import ValidationError

from fabrikam.apps.common.serializers import (
    LOCATION,
    OptionalTimestampField,
    TimestampOrEpochMillisField,
)
from fabrikam.apps.ingestion.api.serializers import PackageInfoSerializer
from fabrikam.apps.ingestion.exceptions import NotFastPath
from fabrikam.contract.enums import ConfirmationType
from fabrikam.contract.geo import Location
from fabrikam.contract.ids import ID_REGEX
from fabrikam.contract.packages import PackageSize

# Printable ASCII, no space at either end (nothing for the serializer to trim), length bounded.
_OWNER = re.compile(r"[!-~](?:[ -~]{0,126}[!-~])?")  # StrictCharField(max_length=128)
_TAG = re.compile(r"(?:[!-~](?:[ -~]{0,98}[!-~])?)?")  # max_length=100, blank allowed
_ID = re.compile(ID_REGEX)
_NUMBER = r"-?[0-9]{1,3}(?:\.[0-9]{1,20})?"
_LAT_LON = re.compile(rf"({_NUMBER}),({_NUMBER})")
_LOCATION_KEYS = frozenset({"latitude", "longitude", "altitude"})
_PACKAGE_KEYS = frozenset({"packageId", "size", "weight", "tag"})
_CONFIRMATIONS = {value.lower(): value for value in ConfirmationType.values}
_SIZES = {value.lower(): value for value in PackageSize.values}
# The serializer's own timestamp fields (stateless once built): times parse exactly as there.
_PICKUP_TIME = TimestampOrEpochMillisField()
_DEADLINE = OptionalTimestampField()


def _bounds(field: Any) -> tuple[float, float]:
    """A serializer field's range, so that the two paths cannot drift apart."""
    return field.min_value, field.max_value


_LATITUDE = _bounds(LOCATION.fields["latitude"])
_LONGITUDE = _bounds(LOCATION.fields["longitude"])
_ALTITUDE = _bounds(LOCATION.fields["altitude"])
_WEIGHT = _bounds(PackageInfoSerializer._declared_fields["weight"])


def _number(value: Any, low: float, high: float) -> float:
    # JSON numbers only (bool is an int subclass; the serializer refuses it); within range.
    if type(value) is float:
        if not math.isfinite(value):
            raise NotFastPath
    elif type(value) is not int or not -(2**53) < value < 2**53:
        raise NotFastPath
    number = float(value)
    if not low <= number <= high:
        raise NotFastPath
    return number


def _location(value: Any) -> Location:
    if type(value) is str:
        match = _LAT_LON.fullmatch(value)
        if match is None:
            raise NotFastPath
        return Location(_number(float(match[1]), *_LATITUDE), _number(float(match[2]), *_LONGITUDE))
    if type(value) is not dict or not value.keys() <= _LOCATION_KEYS:
        raise NotFastPath
    return Location(
        _number(value.get("latitude"), *_LATITUDE),
        _number(value.get("longitude"), *_LONGITUDE),
        _number(value["altitude"], *_ALTITUDE) if "altitude" in value else 0.0,
    )


def _time(field: Any, value: Any) -> datetime | None:
    try:
        return field.to_internal_value(value)
    except ValidationError:
        raise NotFastPath from None


def _choice(choices: dict[str, str], value: Any) -> str:
    if type(value) is not str or value.lower() not in choices:
        raise NotFastPath
    return choices[value.lower()]


def _matching(pattern: re.Pattern[str], value: Any) -> str:
    if type(value) is not str or pattern.fullmatch(value) is None:
        raise NotFastPath
    return value


def _package(value: Any) -> dict[str, Any]:
    if type(value) is not dict or not value.keys() <= _PACKAGE_KEYS:
        raise NotFastPath
    tag = value.get("tag")
    return {
        "packageId": _matching(_ID, value.get("packageId")),
        "size": _choice(_SIZES, value.get("size")),
        "weight": _number(value.get("weight"), *_WEIGHT),
        "tag": "" if tag is None else _matching(_TAG, tag),
    }


def validated_delivery_request(data: Any) -> dict[str, Any] | None:
    """What `DeliveryRequestSerializer(data=data).validated_data` would be, or None when this body
    needs the serializer (it may be valid all the same)."""
    if type(data) is not dict:
        return None
    try:
        deadline, pickup_time = data.get("deadline"), data.get("pickupTime")
        if type(pickup_time) is not str and type(pickup_time) is not int:
            raise NotFastPath
        validated = {
            "ownerId": _matching(_OWNER, data.get("ownerId")),
            "pickupLocation": _location(data.get("pickupLocation")),
            "dropOffLocation": _location(data.get("dropOffLocation")),
            "pickupTime": _time(_PICKUP_TIME, pickup_time),
            "deadline": None if deadline is None else _time(_DEADLINE, _text(deadline)),
            "expedited": _flag(data.get("expedited")),
            "confirmationRequired": _confirmation(data.get("confirmationRequired")),
            "packageInfo": _package(data.get("packageInfo")),
        }
    except NotFastPath:
        return None
    if validated["deadline"] is not None and validated["deadline"] < validated["pickupTime"]:
        return None  # the serializer's 422
    return validated


def _text(value: Any) -> str:
    if type(value) is not str:
        raise NotFastPath
    return value


def _flag(value: Any) -> bool:
    if value is None:
        return False  # null is as if absent: the default
    if type(value) is not bool:
        raise NotFastPath
    return value


def _confirmation(value: Any) -> str:
    if value is None:
        return ConfirmationType.NONE  # the serializer's default, the member itself
    return _choice(_CONFIRMATIONS, value)
