"""The ingestion's request and response bodies (API.md "Ingestion"), strict about JSON types (see
fabrikam.apps.common.serializers)."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from fabrikam.apps.common.serializers import (
    CaseInsensitiveChoiceField,
    LocationField,
    NullMeansAbsent,
    OptionalTimestampField,
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
    TimestampOrEpochMillisField,
)
from fabrikam.contract.enums import ConfirmationType
from fabrikam.contract.ids import ID_MAX_LENGTH, ID_VALIDATOR
from fabrikam.contract.packages import MAX_WEIGHT_KG, PackageSize
from fabrikam.web.problems import FieldsDisagree

IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]+$"
DEADLINE_BEFORE_PICKUP = "The deadline is before the pickup time."


def _one_of(values: list[str]) -> str:
    return '"{input}" is not one of ' + ", ".join(values) + "."


class ConfirmationTypeField(CaseInsensitiveChoiceField):
    """FingerPrint | Picture | Voice | None, case-insensitive on input."""

    default_error_messages = {"invalid_choice": _one_of(ConfirmationType.values)}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(ConfirmationType, **kwargs)


class PackageInfoSerializer(NullMeansAbsent, serializers.Serializer):
    """What is carried; null for `tag` is as if it were not sent."""

    packageId = StrictCharField(max_length=ID_MAX_LENGTH, validators=[ID_VALIDATOR])
    size = CaseInsensitiveChoiceField(
        PackageSize, error_messages={"invalid_choice": _one_of(PackageSize.values)}
    )
    weight = StrictFloatField(
        min_value=0.001, max_value=MAX_WEIGHT_KG, help_text="kilograms, more than 0"
    )
    tag = StrictCharField(max_length=100, required=False, allow_blank=True, default="")


class DeliveryRequestSerializer(NullMeansAbsent, serializers.Serializer):
    """POST /api/deliveryrequests. A `deliveryId` in the body is ignored; null for an optional
    field is as if it were not sent (the reference implementation's clients send `"tag": null`)."""

    ownerId = StrictCharField(max_length=128)
    pickupLocation = LocationField()
    dropOffLocation = LocationField()
    pickupTime = TimestampOrEpochMillisField()
    deadline = OptionalTimestampField(required=False, default=None)
    expedited = StrictBooleanField(default=False)
    confirmationRequired = ConfirmationTypeField(default=ConfirmationType.NONE)
    packageInfo = PackageInfoSerializer()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        deadline = attrs.get("deadline")
        if deadline is not None and deadline < attrs["pickupTime"]:
            raise FieldsDisagree("deadline", DEADLINE_BEFORE_PICKUP)
        return attrs


class RescheduleSerializer(serializers.Serializer):
    """PATCH /api/deliveryrequests/{deliveryId}: at least one of the fields."""

    required_any = ("pickupLocation", "dropOffLocation", "pickupTime", "deadline")

    pickupLocation = LocationField(required=False)
    dropOffLocation = LocationField(required=False)
    pickupTime = TimestampOrEpochMillisField(required=False)
    deadline = OptionalTimestampField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(
                "Give at least one of pickupLocation, dropOffLocation, pickupTime, deadline."
            )
        deadline, pickup_time = attrs.get("deadline"), attrs.get("pickupTime")
        if deadline is not None and pickup_time is not None and deadline < pickup_time:
            raise FieldsDisagree("deadline", DEADLINE_BEFORE_PICKUP)
        return attrs


class DeliveryIdSerializer(serializers.Serializer):
    """The `{deliveryId}` of a path, validated like a body field so a bad one is a 400 naming it."""

    deliveryId = StrictCharField(max_length=ID_MAX_LENGTH, validators=[ID_VALIDATOR])


class IdempotencyKeySerializer(serializers.Serializer):
    key = StrictCharField(
        max_length=255,
        validators=[RegexValidator(IDEMPOTENCY_KEY_PATTERN, "Use printable ASCII without spaces.")],
    )


class DeliveryRequestAcceptedSerializer(DeliveryRequestSerializer):
    deliveryId = serializers.CharField(help_text="Track it at /api/deliveries/{deliveryId}.")


class OperationAcceptedSerializer(serializers.Serializer):
    deliveryId = serializers.CharField()
    operation = serializers.ChoiceField(choices=["cancel", "reschedule"])
