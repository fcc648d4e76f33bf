from __future__ import annotations

from typing import Any

from rest_framework import serializers

from fabrikam.apps.common.serializers import LocationField
from fabrikam.apps.deliveries.stages import ConfirmationType
from fabrikam.apps.packages.api.serializers import MAX_WEIGHT_KG, PackageSizeField


class StrictBooleanField(serializers.BooleanField):
    """JSON true/false only: "yes" or 1 for a flag is more likely a client bug than intent."""

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)
        raise AssertionError("unreachable")


class ConfirmationTypeField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ConfirmationType.choices, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, str):
            for value in ConfirmationType.values:
                if value.lower() == data.strip().lower():
                    return value
        self.fail("invalid_choice", input=data)
        raise AssertionError("unreachable")


class OptionalDateTimeField(serializers.DateTimeField):
    """ISO-8601, or an empty string / null meaning "none"."""

    def to_internal_value(self, value: Any) -> Any:
        if value in ("", None):
            return None
        return super().to_internal_value(value)


class PackageInfoSerializer(serializers.Serializer):
    packageId = serializers.RegexField(
        r"^[A-Za-z0-9_.-]{1,128}$",
        error_messages={"invalid": "Use 1-128 letters, digits, '.', '_' or '-'."},
    )
    size = PackageSizeField()
    weight = serializers.FloatField(min_value=0.001, max_value=MAX_WEIGHT_KG)
    tag = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class DeliveryRequestSerializer(serializers.Serializer):
    """POST /api/deliveryrequests (API.md "Ingestion"). A `deliveryId` in the body is ignored."""

    ownerId = serializers.CharField(max_length=128)
    pickupLocation = LocationField()
    dropOffLocation = LocationField()
    pickupTime = serializers.DateTimeField()
    deadline = OptionalDateTimeField(required=False, allow_null=True, default=None)
    expedited = StrictBooleanField(default=False)
    confirmationRequired = ConfirmationTypeField(default=ConfirmationType.NONE)
    packageInfo = PackageInfoSerializer()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        deadline = attrs.get("deadline")
        if deadline is not None and deadline < attrs["pickupTime"]:
            raise serializers.ValidationError(
                {"deadline": ["The deadline is before the pickup time."]}
            )
        return attrs


class RescheduleSerializer(serializers.Serializer):
    """PATCH /api/deliveryrequests/{id}: at least one of the fields."""

    pickupLocation = LocationField(required=False)
    dropOffLocation = LocationField(required=False)
    pickupTime = serializers.DateTimeField(required=False)
    deadline = OptionalDateTimeField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(
                "Give at least one of pickupLocation, dropOffLocation, pickupTime, deadline."
            )
        deadline, pickup_time = attrs.get("deadline"), attrs.get("pickupTime")
        if deadline is not None and pickup_time is not None and deadline < pickup_time:
            raise serializers.ValidationError(
                {"deadline": ["The deadline is before the pickup time."]}
            )
        return attrs


class DeliveryRequestAcceptedSerializer(DeliveryRequestSerializer):
    deliveryId = serializers.CharField()


class OperationAcceptedSerializer(serializers.Serializer):
    deliveryId = serializers.CharField()
    operation = serializers.CharField()
