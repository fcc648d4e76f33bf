from django.contrib import admin

from fabrikam.apps.dronescheduler.models import Drone, DroneDelivery


@admin.register(Drone)
class DroneAdmin(admin.ModelAdmin):
    list_display = ["id", "model", "status", "battery", "max_payload_kg", "latitude", "longitude"]
    list_filter = ["status", "model"]
    search_fields = ["id"]


@admin.register(DroneDelivery)
class DroneDeliveryAdmin(admin.ModelAdmin):
    list_display = ["delivery_id", "drone", "owner_id", "stage", "assigned_at", "delivery_eta"]
    list_filter = ["stage"]
    search_fields = ["delivery_id", "owner_id", "drone__id"]
    raw_id_fields = ["drone"]
