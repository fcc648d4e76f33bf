"""Serializer fields for the contract's shared types (API.md "Shared types"), strict about JSON
types: a number where a string belongs, or "true" where a boolean belongs, is more likely a client
bug than intent, so it is a 400 naming the field rather than a silent conversion (and the OpenAPI
document, which says "string" or "boolean", stays true)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, TypeVar

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fabrikam.contract.geo import Location

# Doubled braces: DRF formats error messages with str.format.
COORDINATES_REQUIRED = (
    'A location must be coordinates: "lat,lon" (e.g. "47.6097,-122.3331") or an object '
    '{{"latitude": .., "longitude": .., "altitude": ..}}; place names, addresses and three-part '
    "strings are not accepted (a three-part string is ambiguous: give the altitude in the object)."
)
# "lat,lon" within range: latitude -90..90, longitude -180..180, decimal notation.
_LATITUDE = r"-?(?:90(?:\.0+)?|[1-8]?[0-9](?:\.[0-9]+)?)"
_LONGITUDE = r"-?(?:180(?:\.0+)?|(?:1[0-7][0-9]|[1-9]?[0-9])(?:\.[0-9]+)?)"
LAT_LON_PATTERN = rf"^ *({_LATITUDE}) *, *({_LONGITUDE}) *$"
# Parsed more loosely than the schema says, so a number out of range is named as such.
_DECIMAL = r"-?[0-9]+(?:\.[0-9]+)?"
_LAT_LON = re.compile(rf"^ *({_DECIMAL}) *, *({_DECIMAL}) *$")

# Epoch milliseconds (what the reference implementation's Java clients send), 1973-03-03 to
# 9999-12-31: a smaller number is more likely epoch seconds, refused rather than read as 1970.
MIN_EPOCH_MS = 100_000_000_000
MAX_EPOCH_MS = 253_402_300_799_999


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    default_error_messages = {"invalid": "Must be a number."}

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid")
        raise AssertionError("unreachable")


class TimestampField(serializers.DateTimeField):
    """An ISO-8601 date and time as a string ("2026-12-01T10:00:00Z"); without an offset it is UTC.
    A date alone is refused: a pickup "on the 1st" is not a time a drone can be scheduled for."""

    default_error_messages = {
        "invalid": "Use an ISO-8601 date and time, e.g. 2026-12-01T10:00:00Z.",
    }

    def to_internal_value(self, value: Any) -> Any:
        if not isinstance(value, str) or not re.search(r"\d[T ]\d", value):
            self.fail("invalid")
        return super().to_internal_value(value)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "format": "date-time"},
            {
                "type": "integer",
                "minimum": MIN_EPOCH_MS,
                "maximum": MAX_EPOCH_MS,
                "description": "milliseconds since 1970-01-01T00:00:00Z",
            },
        ]
    }
)
class TimestampOrEpochMillisField(TimestampField):
    """ISO-8601, or epoch milliseconds as a JSON integer (what reference-implementation clients
    send)."""

    default_error_messages = {
        "invalid": "Use an ISO-8601 date and time (e.g. 2026-12-01T10:00:00Z) or epoch "
        f"milliseconds (an integer from {MIN_EPOCH_MS} to {MAX_EPOCH_MS}; not seconds).",
    }

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            if not MIN_EPOCH_MS <= value <= MAX_EPOCH_MS:
                self.fail("invalid")
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        return super().to_internal_value(value)


@extend_schema_field(
    {
        "type": "string",
        "nullable": True,
        "anyOf": [{"format": "date-time"}, {"maxLength": 0}],
        "description": "ISO-8601; empty or null for none",
    }
)
class OptionalTimestampField(TimestampField):
    """ISO-8601, or an empty string / null meaning "none"."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_null=True, **kwargs)

    def to_internal_value(self, value: Any) -> Any:
        if value in ("", None):
            return None
        return super().to_internal_value(value)


SerializerT = TypeVar("SerializerT", bound=serializers.BaseSerializer)


class LocationSerializer(serializers.Serializer):
    latitude = StrictFloatField(min_value=-90, max_value=90)
    longitude = StrictFloatField(min_value=-180, max_value=180)
    altitude = StrictFloatField(default=0.0, min_value=-500, max_value=20000)


def shared(serializer: SerializerT) -> SerializerT:
    """`serializer`, to be built once and shared: building one copies its declared fields (a
    large part of a small request's CPU), while validating with `run_validation` (which raises the
    errors `is_valid` would) or rendering with `to_representation` keeps no state in it. Its
    fields, a cached property, are bound now, before threads share it."""
    serializer.fields  # noqa: B018
    return serializer


LOCATION = shared(LocationSerializer())


class LocationField(serializers.Field):
    """A Location given as an object or as a "lat,lon" string; renders as an object. A three-part
    string is refused: the reference implementation's clients send altitude first, so which part
    is the latitude cannot be told."""

    default_error_messages = {"free_text": COORDINATES_REQUIRED}

    def to_internal_value(self, data: Any) -> Location:
        if isinstance(data, str):
            match = _LAT_LON.match(data)
            if match is None:
                self.fail("free_text")
            data = {"latitude": float(match[1]), "longitude": float(match[2])}
        if not isinstance(data, dict):
            self.fail("free_text")
        return Location(**LOCATION.run_validation(data))

    def to_representation(self, value: Location | dict) -> dict[str, float]:
        return value.as_dict() if isinstance(value, Location) else dict(value)


class NullMeansAbsent:
    """A request serializer mixin: `null` for an optional, non-nullable field is as if the field
    were not sent (clients of the reference implementation send `"tag": null`)."""

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            data = {
                name: value
                for name, value in data.items()
                if not (value is None and self._optional(name))
            }
        return super().to_internal_value(data)  # type: ignore[misc]

    def _optional(self, name: str) -> bool:
        field = self.fields.get(name)
        return field is not None and not field.required and not field.allow_null


class CaseInsensitiveChoiceField(serializers.ChoiceField):
    """One of a TextChoices' values, matched case-insensitively; stored in its canonical case."""

    def __init__(self, enum: type[Any], **kwargs: Any) -> None:
        self.enum = enum
        super().__init__(choices=enum.choices, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, str):
            for value in self.enum.values:
                if value.lower() == data.strip().lower():
                    return value
        self.fail("invalid_choice", input=data)
        raise AssertionError("unreachable")
