"""The ingestion's request and response bodies (API.md "Ingestion"), strict about JSON types: a
number where a string belongs, or "true" where a boolean belongs, is more likely a client bug than
intent, so it is a 400 naming the field rather than a silent conversion."""

from __future__ import annotations

import re
from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from fabrikam.apps.common.serializers import CaseInsensitiveChoiceField, LocationField
from fabrikam.apps.deliveries.stages import ConfirmationType
from fabrikam.apps.packages.api.serializers import MAX_WEIGHT_KG, PackageSizeField

ID_PATTERN = r"^[A-Za-z0-9_.-]{1,128}$"
ID_RULE = "Use 1-128 letters, digits, '.', '_' or '-'."
DEADLINE_BEFORE_PICKUP = "The deadline is before the pickup time."
PACKAGE_SIZES = list(PackageSizeField().choices)


def _one_of(values: list[str]) -> str:
    return '"{input}" is not one of ' + ", ".join(values) + "."


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


class ConfirmationTypeField(CaseInsensitiveChoiceField):
    """FingerPrint | Picture | Voice | None, case-insensitive on input."""

    default_error_messages = {"invalid_choice": _one_of(ConfirmationType.values)}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(ConfirmationType, **kwargs)


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


class OptionalDateTimeField(TimestampField):
    """ISO-8601, or an empty string / null meaning "none"."""

    def to_internal_value(self, value: Any) -> Any:
        if value in ("", None):
            return None
        return super().to_internal_value(value)


class PackageInfoSerializer(serializers.Serializer):
    packageId = StrictCharField(max_length=128, validators=[RegexValidator(ID_PATTERN, ID_RULE)])
    size = PackageSizeField(error_messages={"invalid_choice": _one_of(PACKAGE_SIZES)})
    weight = StrictFloatField(
        min_value=0.001, max_value=MAX_WEIGHT_KG, help_text="kilograms, more than 0"
    )
    tag = StrictCharField(max_length=100, required=False, allow_blank=True, default="")


class DeliveryRequestSerializer(serializers.Serializer):
    """POST /api/deliveryrequests. A `deliveryId` in the body is ignored."""

    ownerId = StrictCharField(max_length=128)
    pickupLocation = LocationField()
    dropOffLocation = LocationField()
    pickupTime = TimestampField()
    deadline = OptionalDateTimeField(required=False, allow_null=True, default=None)
    expedited = StrictBooleanField(default=False)
    confirmationRequired = ConfirmationTypeField(default=ConfirmationType.NONE)
    packageInfo = PackageInfoSerializer()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        deadline = attrs.get("deadline")
        if deadline is not None and deadline < attrs["pickupTime"]:
            raise serializers.ValidationError({"deadline": [DEADLINE_BEFORE_PICKUP]})
        return attrs


class RescheduleSerializer(serializers.Serializer):
    """PATCH /api/deliveryrequests/{deliveryId}: at least one of the fields."""

    pickupLocation = LocationField(required=False)
    dropOffLocation = LocationField(required=False)
    pickupTime = TimestampField(required=False)
    deadline = OptionalDateTimeField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(
                "Give at least one of pickupLocation, dropOffLocation, pickupTime, deadline."
            )
        deadline, pickup_time = attrs.get("deadline"), attrs.get("pickupTime")
        if deadline is not None and pickup_time is not None and deadline < pickup_time:
            raise serializers.ValidationError({"deadline": [DEADLINE_BEFORE_PICKUP]})
        return attrs


class DeliveryIdSerializer(serializers.Serializer):
    """The `{deliveryId}` of a path, validated like a body field so a bad one is a 400 naming it."""

    deliveryId = StrictCharField(max_length=128, validators=[RegexValidator(ID_PATTERN, ID_RULE)])


class IdempotencyKeySerializer(serializers.Serializer):
    key = StrictCharField(
        max_length=255,
        validators=[RegexValidator(r"^[\x21-\x7e]+$", "Use printable ASCII without spaces.")],
    )


class DeliveryRequestAcceptedSerializer(DeliveryRequestSerializer):
    deliveryId = serializers.CharField(help_text="Track it at /api/deliveries/{deliveryId}.")


class OperationAcceptedSerializer(serializers.Serializer):
    deliveryId = serializers.CharField()
    operation = serializers.ChoiceField(choices=["cancel", "reschedule"])


class ProblemSerializer(serializers.Serializer):
    """application/problem+json (RFC 9457), as fabrikam.problems renders every error."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(required=False)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text='Field → messages, nested fields dotted ("packageInfo.size"); validation only.',
    )
