from __future__ import annotations

from rest_framework import serializers

from fabrikam.apps.common.serializers import LocationField
from fabrikam.apps.deliveries.stages import ConfirmationType, DeliveryStage


class OwnerSerializer(serializers.Serializer):
    userId = serializers.CharField(max_length=128)
    accountId = serializers.CharField(max_length=128)


class DeliveryWriteSerializer(serializers.Serializer):
    """PUT /api/deliveries/{id}: what the workflow sends."""

    owner = OwnerSerializer()
    pickup = LocationField()
    dropoff = LocationField()
    pickupTime = serializers.DateTimeField(required=False, allow_null=True)
    deadline = serializers.CharField(required=False, allow_blank=True, default="")
    expedited = serializers.BooleanField(default=False)
    confirmationRequired = serializers.ChoiceField(
        choices=ConfirmationType.choices, default=ConfirmationType.NONE
    )
    droneId = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    packageId = serializers.CharField(max_length=128, required=False, default="")

    def to_document(self) -> dict:
        data = dict(self.validated_data)
        data["pickup"] = data["pickup"].as_dict()
        data["dropoff"] = data["dropoff"].as_dict()
        data["owner"] = dict(data["owner"])
        if data.get("pickupTime"):
            data["pickupTime"] = serializers.DateTimeField().to_representation(data["pickupTime"])
        return data


class DeliverySerializer(DeliveryWriteSerializer):
    id = serializers.CharField()
    stage = serializers.ChoiceField(choices=DeliveryStage.choices)


class DeliveryEventSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=DeliveryStage.choices)
    location = LocationField()
    timestamp = serializers.CharField()
