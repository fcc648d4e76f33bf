from __future__ import annotations

from django.contrib import admin

from fabrikam.apps.accounts.models import ApiClient, Business


class ApiClientInline(admin.TabularInline):
    model = ApiClient
    extra = 0
    fields = ["name", "client_id", "is_active", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Business)
class BusinessAdmin(admin.ModelAdmin):
    list_display = ["name", "owner_id", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "owner_id", "clients__client_id"]
    inlines = [ApiClientInline]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return ["owner_id", "created_at"] if obj else ["created_at"]


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "client_id", "business", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "client_id", "business__name", "business__owner_id"]
    list_select_related = ["business"]
    autocomplete_fields = ["business"]
