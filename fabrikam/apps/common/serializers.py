"""Serializer fields for the contract's shared types (API.md "Shared types")."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fabrikam.geo import Location

# Doubled braces: DRF formats error messages with str.format.
COORDINATES_REQUIRED = (
    'A location must be coordinates: {{"latitude": .., "longitude": .., "altitude": ..}} '
    'or "lat,lon[,alt]"; place names and addresses are not accepted.'
)


class LocationSerializer(serializers.Serializer):
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    altitude = serializers.FloatField(default=0.0, min_value=-500, max_value=20000)


@extend_schema_field(LocationSerializer)
class LocationField(serializers.Field):
    """A Location given as an object or as a "lat,lon[,alt]" string; renders as an object."""

    default_error_messages = {"free_text": COORDINATES_REQUIRED}

    def to_internal_value(self, data: Any) -> Location:
        if isinstance(data, str):
            parts = [part.strip() for part in data.split(",")]
            if len(parts) not in (2, 3):
                self.fail("free_text")
            try:
                numbers = [float(part) for part in parts]
            except ValueError:
                self.fail("free_text")
            data = dict(zip(("latitude", "longitude", "altitude"), numbers, strict=False))
        if not isinstance(data, dict):
            self.fail("free_text")
        nested = LocationSerializer(data=data)
        nested.is_valid(raise_exception=True)
        return Location(**nested.validated_data)

    def to_representation(self, value: Location | dict) -> dict[str, float]:
        return value.as_dict() if isinstance(value, Location) else dict(value)


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
