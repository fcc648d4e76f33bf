from django.urls import path

from fabrikam.apps.dronescheduler.api import views

urlpatterns = [
    # Before the delivery-id route, whose pattern "utilization" also matches.
    path(
        "api/dronedeliveries/utilization",
        views.UtilizationView.as_view(),
        name="drone-utilization",
    ),
    path(
        "api/dronedeliveries/<id:delivery_id>",
        views.DroneDeliveryView.as_view(),
        name="drone-delivery",
    ),
    path("api/drones", views.DroneListView.as_view(), name="drones"),
    path("api/drones/<id:drone_id>", views.DroneDetailView.as_view(), name="drone"),
]
