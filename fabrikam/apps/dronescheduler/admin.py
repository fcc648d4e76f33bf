"""The fleet in Django admin: drones, their assignments and flights. Status changes go through the
services, so the admin obeys the same rules as the API (an assigned drone is not pulled without
moving its delivery)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from fabrikam.apps.dronescheduler import services
from fabrikam.apps.dronescheduler.models import Drone, DroneDelivery, Flight
from fabrikam.web.problems import DomainError


class BatteryFilter(admin.SimpleListFilter):
    title = "battery"
    parameter_name = "battery"
    BANDS = {
        "low": ("below 20%", 0, 20),
        "half": ("20-50%", 20, 50),
        "most": ("50-99%", 50, 100),
        "full": ("full", 100, 101),
    }

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, _, _) in self.BANDS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Drone]) -> QuerySet[Drone]:
        band = self.BANDS.get(self.value() or "")
        if band is None:
            return queryset
        _, low, high = band
        return queryset.filter(battery__gte=low, battery__lt=high)


def _apply(
    request: HttpRequest,
    modeladmin: admin.ModelAdmin,
    drones: QuerySet[Drone],
    change: Callable[[str], object],
    done: str,
) -> None:
    """Run `change` on each drone; report the successes together and each refusal with its
    reason (one drone refused does not stop the others)."""
    changed = 0
    for drone_id in drones.values_list("pk", flat=True):
        try:
            change(drone_id)
            changed += 1
        except DomainError as exc:
            modeladmin.message_user(request, exc.detail, messages.ERROR)
    if changed:
        modeladmin.message_user(request, f"{changed} drone(s) {done}.", messages.SUCCESS)


@admin.register(Drone)
class DroneAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "model",
        "status",
        "battery_percent",
        "max_payload_kg",
        "max_package_size",
        "speed_kmh",
        "where",
        "home_base",
        "updated_at",
    ]
    list_filter = ["status", BatteryFilter, "model", "max_package_size"]
    search_fields = ["id", "model"]
    ordering = ["id"]
    readonly_fields = ["status", "updated_at", "battery_at"]
    actions = ["send_to_maintenance", "reassign_and_send_to_maintenance", "return_to_service"]
    list_per_page = 50

    @admin.display(description="battery", ordering="battery")
    def battery_percent(self, drone: Drone) -> str:
        return f"{drone.battery:.0f}%"

    @admin.display(description="position (lat, lon)")
    def where(self, drone: Drone) -> str:
        return f"{drone.latitude:.5f}, {drone.longitude:.5f}"

    @admin.display(description="home base (lat, lon)")
    def home_base(self, drone: Drone) -> str:
        return f"{drone.home_latitude:.5f}, {drone.home_longitude:.5f}"

    @admin.action(description="Send to maintenance (not if assigned or flying)")
    def send_to_maintenance(self, request: HttpRequest, drones: QuerySet[Drone]) -> None:
        _apply(request, self, drones, services.send_to_maintenance, "sent to maintenance")

    @admin.action(description="Reassign the delivery and send to maintenance")
    def reassign_and_send_to_maintenance(
        self, request: HttpRequest, drones: QuerySet[Drone]
    ) -> None:
        _apply(
            request,
            self,
            drones,
            lambda drone_id: services.send_to_maintenance(drone_id, reassign=True),
            "sent to maintenance",
        )

    @admin.action(description="Return to service")
    def return_to_service(self, request: HttpRequest, drones: QuerySet[Drone]) -> None:
        _apply(request, self, drones, services.return_to_service, "back in service")


class FlightInline(admin.StackedInline):
    model = Flight
    can_delete = False
    extra = 0
    fields = ["phase", "departed_at", "landed_at", "traveled_km", "assigned_hours"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(DroneDelivery)
class DroneDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "delivery_id",
        "drone",
        "owner_id",
        "stage",
        "assigned_at",
        "pickup_eta",
        "delivery_eta",
    ]
    list_filter = ["stage", "expedited"]
    search_fields = ["delivery_id", "owner_id", "drone__id"]
    date_hierarchy = "assigned_at"
    readonly_fields = [field.name for field in DroneDelivery._meta.fields]
    inlines = [FlightInline]
    actions = ["reassign", "release"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # assignments come from the API (the saga), by the assignment rules

    @admin.action(description="Reassign to the next-nearest drone (before take-off)")
    def reassign(self, request: HttpRequest, deliveries: QuerySet[DroneDelivery]) -> None:
        for delivery_id in deliveries.values_list("delivery_id", flat=True):
            try:
                moved = services.reassign_delivery(delivery_id)
            except DomainError as exc:
                self.message_user(request, exc.detail, messages.ERROR)
            else:
                self.message_user(request, f"{delivery_id} → drone {moved.drone_id}.")

    @admin.action(description="Release the drone (cancel the assignment)")
    def release(self, request: HttpRequest, deliveries: QuerySet[DroneDelivery]) -> None:
        for delivery_id in deliveries.values_list("delivery_id", flat=True):
            services.release_drone(delivery_id)
        self.message_user(request, f"{deliveries.count()} assignment(s) released.")


@admin.register(Flight)
class FlightAdmin(admin.ModelAdmin):
    list_display = [
        "delivery",
        "drone",
        "owner_id",
        "phase",
        "assigned_at",
        "landed_at",
        "traveled_km",
        "assigned_hours",
    ]
    list_filter = ["phase"]
    search_fields = ["delivery__delivery_id", "drone__id", "owner_id"]
    date_hierarchy = "assigned_at"
    list_select_related = ["delivery", "drone"]
    readonly_fields = [field.name for field in Flight._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
