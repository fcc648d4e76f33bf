"""The deliveries' HTTP shapes (API.md "Deliveries"): requests into records, records out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.validators import EmailValidator, RegexValidator
from rest_framework import serializers

from fabrikam.apps.common.serializers import (
    LocationField,
    OptionalTimestampField,
    StrictBooleanField,
    StrictCharField,
    TimestampField,
)
from fabrikam.apps.deliveries.records import (
    Confirmation,
    DeliveryDetails,
    FlightUpdate,
    NotifyMeRequest,
    Owner,
    Reschedule,
)
from fabrikam.apps.deliveries.stages import FLIGHT_STAGE_CHOICES
from fabrikam.contract.enums import ConfirmationType, DeliveryStage
from fabrikam.web.problems import FieldsDisagree

MAX_CONFIRMATION_BLOB = 48 * 1024  # characters; the request limit (MAX_REQUEST_BYTES) caps it too


MAX_REASON = 500


class ReasonField(serializers.CharField):
    """Why a delivery was cancelled; null when it was not (or no reason was given)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_null=True, read_only=True, **kwargs)

    def to_representation(self, value: Any) -> str | None:
        return str(value) if value else None


class OwnerSerializer(serializers.Serializer):
    userId = StrictCharField(max_length=128, source="user_id")
    accountId = StrictCharField(max_length=128, source="account_id")


class DeliveryWriteSerializer(serializers.Serializer):
    """PUT /api/deliveries/{id}: what the workflow sends, plus the assignment's optional ETAs."""

    owner = OwnerSerializer()
    pickup = LocationField()
    dropoff = LocationField()
    pickupTime = OptionalTimestampField(source="pickup_time", required=False, default=None)
    deadline = OptionalTimestampField(required=False, default=None)
    expedited = StrictBooleanField(default=False)
    confirmationRequired = serializers.ChoiceField(
        choices=ConfirmationType.choices,
        default=ConfirmationType.NONE,
        source="confirmation_required",
    )
    droneId = StrictCharField(
        max_length=64, required=False, allow_blank=True, default="", source="drone_id"
    )
    packageId = StrictCharField(
        max_length=128, required=False, allow_blank=True, default="", source="package_id"
    )
    pickupETA = OptionalTimestampField(source="pickup_eta", required=False, default=None)
    deliveryETA = OptionalTimestampField(source="delivery_eta", required=False, default=None)
    # Cancelled: the request ended before it was scheduled; stored cancelled with the reason.
    stage = serializers.ChoiceField(
        choices=[DeliveryStage.CREATED.value, DeliveryStage.CANCELLED.value],
        default=DeliveryStage.CREATED.value,
    )
    reason = StrictCharField(max_length=MAX_REASON, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["stage"] == DeliveryStage.CANCELLED.value and not attrs["reason"].strip():
            raise FieldsDisagree("reason", "Say why it is stored cancelled.")
        return attrs

    @property
    def cancelled(self) -> bool:
        return self.validated_data["stage"] == DeliveryStage.CANCELLED.value

    def details(self, validated: Mapping[str, Any] | None = None) -> DeliveryDetails:
        """The service's details, of data validated by this serializer (its own by default)."""
        data = dict(self.validated_data if validated is None else validated)
        data.pop("stage")
        data.pop("reason")
        data["owner"] = Owner(**data["owner"])
        data["confirmation_required"] = ConfirmationType(data["confirmation_required"])
        return DeliveryDetails(**data)


class PublicDeliverySerializer(serializers.Serializer):
    """GET /api/deliveries/public/{id}: a delivery without its owner."""

    id = serializers.CharField()
    pickup = LocationField()
    dropoff = LocationField()
    pickupTime = serializers.DateTimeField(source="pickup_time", allow_null=True)
    deadline = serializers.DateTimeField(allow_null=True)
    expedited = serializers.BooleanField()
    confirmationRequired = serializers.ChoiceField(
        choices=ConfirmationType.choices, source="confirmation_required"
    )
    droneId = serializers.CharField(source="drone_id")
    packageId = serializers.CharField(source="package_id")
    stage = serializers.ChoiceField(choices=DeliveryStage.choices)
    reason = ReasonField()


class DeliverySerializer(PublicDeliverySerializer):
    owner = OwnerSerializer()


class DeliveryRescheduleSerializer(serializers.Serializer):
    """PATCH /api/deliveries/{id}: any of these; at least one. An empty deadline removes it."""

    required_any = ("pickup", "dropoff", "pickupTime", "deadline")

    pickup = LocationField(required=False)
    dropoff = LocationField(required=False)
    pickupTime = TimestampField(required=False, source="pickup_time")
    deadline = OptionalTimestampField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(
                "Give at least one of pickup, dropoff, pickupTime, deadline."
            )
        return attrs

    def change(self, validated: Mapping[str, Any] | None = None) -> Reschedule:
        """The service's change, of data validated by this serializer (its own by default)."""
        data = dict(self.validated_data if validated is None else validated)
        clear_deadline = "deadline" in data and data["deadline"] is None
        return Reschedule(**data, clear_deadline=clear_deadline)


class CancelRequestSerializer(serializers.Serializer):
    """DELETE /api/deliveries/{id}: an optional body saying why (the workflow sends it)."""

    reason = StrictCharField(max_length=MAX_REASON, required=False, allow_blank=True, default="")


class CancellationSerializer(serializers.Serializer):
    id = serializers.CharField(source="delivery_id")
    stage = serializers.SerializerMethodField()
    cancelledAt = serializers.DateTimeField(source="cancelled_at")
    expiresAt = serializers.DateTimeField(source="expires_at")

    def get_stage(self, cancellation: Any) -> str:
        return DeliveryStage.CANCELLED.value


class DeliveryStatusSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=DeliveryStage.choices)
    lastKnownLocation = LocationField(source="last_known_location")
    pickupETA = serializers.DateTimeField(source="pickup_eta", allow_null=True)
    deliveryETA = serializers.DateTimeField(source="delivery_eta", allow_null=True)
    reason = ReasonField()


class DeliveryEventSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=DeliveryStage.choices)
    location = LocationField()
    timestamp = serializers.DateTimeField()


class FlightUpdateSerializer(serializers.Serializer):
    """POST /api/deliveries/{id}/tracking: the drone scheduler's flight update."""

    stage = serializers.ChoiceField(choices=FLIGHT_STAGE_CHOICES)
    location = LocationField()
    pickupETA = OptionalTimestampField(source="pickup_eta", required=False, default=None)
    deliveryETA = OptionalTimestampField(source="delivery_eta", required=False, default=None)
    timestamp = TimestampField()

    def update_record(self) -> FlightUpdate:
        data = dict(self.validated_data)
        data["stage"] = DeliveryStage(data["stage"])
        return FlightUpdate(**data)


class ConfirmationSerializer(serializers.Serializer):
    """POST /api/deliveries/{id}/confirmations."""

    dateTime = TimestampField(source="date_time")
    geoCoordinates = LocationField(source="geo_coordinates")
    confirmationType = serializers.ChoiceField(
        choices=ConfirmationType.choices, source="confirmation_type"
    )
    confirmationBlob = StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=MAX_CONFIRMATION_BLOB,
        trim_whitespace=False,
        source="confirmation_blob",
    )

    def confirmation(self) -> Confirmation:
        data = dict(self.validated_data)
        data["confirmation_type"] = ConfirmationType(data["confirmation_type"])
        return Confirmation(**data)


class NotifyMeSerializer(serializers.Serializer):
    """POST /api/deliveries/{id}/notifymerequests: an email address, an SMS number, or both."""

    required_any = ("emailAddress", "sms")  # the OpenAPI document says so (fabrikam.web.openapi)
    blank_is_absent = True

    emailAddress = StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=254,
        validators=[EmailValidator("Enter a valid email address.")],
        source="email_address",
    )
    sms = StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        validators=[
            RegexValidator(
                r"^\+?[0-9 ()-]{6,24}$", "A phone number: digits, optionally with +, spaces, ( ) -."
            )
        ],
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["email_address"] and not attrs["sms"]:
            raise serializers.ValidationError("Give an emailAddress, an sms number, or both.")
        return attrs

    def request_record(self) -> NotifyMeRequest:
        return NotifyMeRequest(**self.validated_data)


class SummaryQuerySerializer(serializers.Serializer):
    ownerId = serializers.CharField(max_length=128, source="owner_id")
    year = serializers.IntegerField(min_value=1970, max_value=9999)
    month = serializers.IntegerField(min_value=1, max_value=12)


class SummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
