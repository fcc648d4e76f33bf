from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from fabrikam.apps.common.serializers import CaseInsensitiveChoiceField, StrictCharField
from fabrikam.apps.packages.models import Package
from fabrikam.contract.ids import ID_MAX_LENGTH
from fabrikam.contract.packages import MAX_WEIGHT_KG, DeliveryState, PackageSize
from fabrikam.web.problems import FieldsDisagree

MAX_TAG_LENGTH = 100
MAX_OWNER_ID_LENGTH = ID_MAX_LENGTH


class PackageSizeField(CaseInsensitiveChoiceField):
    """Small | Medium | Large, case-insensitive on input."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(PackageSize, **kwargs)


class WeightField(serializers.FloatField):
    """Kilograms as a JSON number: `true` or `"2"` is a client bug, not a weight."""

    default_error_messages = {"not_a_number": "The weight must be a number of kilograms."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=0.001, max_value=MAX_WEIGHT_KG, **kwargs)

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("not_a_number")
        return super().to_internal_value(data)


class PackageWriteSerializer(serializers.Serializer):
    """PUT: all but tag and deliveryState required."""

    size = PackageSizeField()
    weight = WeightField()
    tag = StrictCharField(max_length=MAX_TAG_LENGTH, required=False, allow_blank=True, default="")
    ownerId = StrictCharField(max_length=MAX_OWNER_ID_LENGTH, source="owner_id")
    # Absent on a PUT: a new package is Registered, a replaced one keeps its state.
    deliveryState = CaseInsensitiveChoiceField(
        DeliveryState, source="delivery_state", required=False
    )


class PackagePatchSerializer(PackageWriteSerializer):
    """PATCH: any non-empty subset of the fields but the owner, which names the package
    (`?ownerId=`)."""

    required_any = ("size", "weight", "tag", "deliveryState")  # the schema says so too
    ownerId = None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "ownerId" in self.initial_data:
            raise serializers.ValidationError(
                {"ownerId": ["A package's owner cannot change; name the owner with ?ownerId=."]}
            )
        if not attrs:  # a PATCH with nothing to change is a client bug, not a no-op
            raise serializers.ValidationError(
                f"Give at least one of {', '.join(self.required_any)}."
            )
        return attrs


class OwnerQuerySerializer(serializers.Serializer):
    """`?ownerId=`: whose package an admin or internal caller means (a business means its own)."""

    ownerId = serializers.CharField(max_length=MAX_OWNER_ID_LENGTH, required=False)


class PackageSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="package_id")
    ownerId = serializers.CharField(source="owner_id")
    deliveryState = serializers.CharField(source="delivery_state")

    class Meta:
        model = Package
        fields = ["id", "size", "weight", "tag", "ownerId", "deliveryState"]


class SummaryQuerySerializer(serializers.Serializer):
    """The owner from the path, `?year=&month=` from the query: both optional (an empty value is
    no filter); a month needs its year."""

    ownerId = serializers.CharField(max_length=MAX_OWNER_ID_LENGTH, source="owner_id")
    year = serializers.IntegerField(min_value=1, max_value=9998, required=False)
    month = serializers.IntegerField(min_value=1, max_value=12, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "month" in attrs and "year" not in attrs:
            raise FieldsDisagree("year", "A month needs a year.")
        return attrs


@extend_schema_serializer(component_name="PackageSummary")  # deliveries has a `Summary` too
class SummarySerializer(serializers.Serializer):
    totalWeight = serializers.FloatField(source="total_weight")
    count = serializers.IntegerField()
