from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers

from fabrikam.apps.common.serializers import (
    LocationField,
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
)
from fabrikam.apps.dronescheduler.models import Drone, PackageSize
from fabrikam.apps.dronescheduler.services import AssignmentRequest, PackageDetail
from fabrikam.contract.packages import MAX_WEIGHT_KG


class PackageDetailSerializer(serializers.Serializer):
    id = StrictCharField(max_length=128)
    size = serializers.ChoiceField(choices=[s.label for s in PackageSize])
    weight = StrictFloatField(min_value=0.001, max_value=MAX_WEIGHT_KG)

    def to_internal_value(self, data: object) -> dict:
        if isinstance(data, dict) and isinstance(data.get("size"), str):
            data = {**data, "size": data["size"].strip().capitalize()}
        return super().to_internal_value(data)


class AssignmentRequestSerializer(serializers.Serializer):
    deliveryId = StrictCharField(max_length=64, required=False)
    ownerId = StrictCharField(max_length=128)
    pickup = LocationField()
    dropoff = LocationField()
    packageDetails = PackageDetailSerializer(many=True, allow_empty=False)
    expedited = StrictBooleanField(default=False)

    def to_request(
        self, delivery_id: str, data: Mapping[str, Any] | None = None
    ) -> AssignmentRequest:
        """The service's request, of `data` validated by this serializer (its own by default)."""
        data = self.validated_data if data is None else data
        return AssignmentRequest(
            delivery_id=delivery_id,
            owner_id=data["ownerId"],
            pickup=data["pickup"],
            dropoff=data["dropoff"],
            packages=tuple(PackageDetail(**p) for p in data["packageDetails"]),
            expedited=data["expedited"],
        )


class ReplanSerializer(serializers.Serializer):
    """PATCH /api/dronedeliveries/{id}: a rescheduled delivery's new pickup and/or dropoff."""

    required_any = ("pickup", "dropoff")

    pickup = LocationField(required=False)
    dropoff = LocationField(required=False)

    def validate(self, attrs: dict) -> dict:
        if not attrs:
            raise serializers.ValidationError("Give pickup, dropoff or both.")
        return attrs


class AssignmentSerializer(serializers.Serializer):
    droneId = serializers.CharField(source="drone_id")
    pickupETA = serializers.DateTimeField(source="pickup_eta", allow_null=True)
    deliveryETA = serializers.DateTimeField(source="delivery_eta", allow_null=True)


class FlightSerializer(serializers.Serializer):
    phase = serializers.CharField()
    departedAt = serializers.DateTimeField(source="departed_at", allow_null=True)
    landedAt = serializers.DateTimeField(source="landed_at", allow_null=True)
    traveledKm = serializers.FloatField(source="traveled_km")


class DroneDeliverySerializer(AssignmentSerializer):
    deliveryId = serializers.CharField(source="delivery_id")
    ownerId = serializers.CharField(source="owner_id")
    stage = serializers.CharField()
    pickup = LocationField()
    dropoff = LocationField()
    dronePosition = LocationField(source="drone.position")
    assignedAt = serializers.DateTimeField(source="assigned_at")
    pickedUpAt = serializers.DateTimeField(source="picked_up_at", allow_null=True)
    completedAt = serializers.DateTimeField(source="completed_at", allow_null=True)
    releasedAt = serializers.DateTimeField(source="released_at", allow_null=True)
    flight = FlightSerializer()


class UtilizationQuerySerializer(serializers.Serializer):
    ownerId = serializers.CharField(max_length=128)
    year = serializers.IntegerField(min_value=2000, max_value=9999)
    month = serializers.IntegerField(min_value=1, max_value=12)

    def window(self) -> tuple[datetime, datetime]:
        """[first instant of the month, first instant of the next) in UTC."""
        year, month = self.validated_data["year"], self.validated_data["month"]
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        return start, end


class UtilizationSerializer(serializers.Serializer):
    traveledMiles = serializers.FloatField(source="traveled_miles")
    assignedHours = serializers.FloatField(source="assigned_hours")


class DroneSerializer(serializers.ModelSerializer):
    position = LocationField()
    maxPayloadKg = serializers.FloatField(source="max_payload_kg")
    maxPackageSize = serializers.CharField(source="get_max_package_size_display")
    speedKmh = serializers.FloatField(source="speed_kmh")
    rangeKm = serializers.FloatField(source="range_km")

    class Meta:
        model = Drone
        fields = [
            "id",
            "model",
            "status",
            "position",
            "battery",
            "maxPayloadKg",
            "maxPackageSize",
            "speedKmh",
            "rangeKm",
        ]
