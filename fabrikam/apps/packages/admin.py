from django.contrib import admin

from fabrikam.apps.packages.models import Package


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    list_display = ["id", "owner_id", "size", "weight", "tag", "delivery_state", "created_at"]
    list_filter = ["size", "delivery_state"]
    search_fields = ["id", "owner_id", "tag"]
    readonly_fields = ["created_at", "updated_at"]
