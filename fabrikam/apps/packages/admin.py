from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from fabrikam.apps.packages.models import Package


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    # A package is named by its owner and its id (two owners may use the same id), so both are
    # listed and searched, and neither changes once the package exists.
    list_display = [
        "package_id",
        "owner_id",
        "size",
        "weight",
        "tag",
        "delivery_state",
        "created_at",
    ]
    list_filter = ["size", "delivery_state"]
    search_fields = ["package_id", "owner_id", "tag"]
    ordering = ["package_id", "owner_id"]
    readonly_fields = ["created_at", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "package_id", "owner_id"] if obj is not None else fields
