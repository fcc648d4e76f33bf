from __future__ import annotations

from typing import Any

from rest_framework import serializers

from fabrikam.apps.packages.models import Package, PackageSize

MAX_WEIGHT_KG = 100.0


class PackageSizeField(serializers.ChoiceField):
    """Small | Medium | Large, case-insensitive on input."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=PackageSize.choices, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, str):
            for value in PackageSize.values:
                if value.lower() == data.strip().lower():
                    return value
        self.fail("invalid_choice", input=data)
        raise AssertionError("unreachable")


class PackageWriteSerializer(serializers.Serializer):
    size = PackageSizeField()
    weight = serializers.FloatField(min_value=0.001, max_value=MAX_WEIGHT_KG)
    tag = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    ownerId = serializers.CharField(max_length=128, source="owner_id")


class PackageSerializer(serializers.ModelSerializer):
    ownerId = serializers.CharField(source="owner_id")

    class Meta:
        model = Package
        fields = ["id", "size", "weight", "tag", "ownerId"]
