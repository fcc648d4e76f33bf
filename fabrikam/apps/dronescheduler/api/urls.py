from django.urls import re_path

from fabrikam.apps.dronescheduler.api import views

urlpatterns = [
    re_path(
        r"(?i)^api/dronedeliveries/(?P<delivery_id>[A-Za-z0-9_.-]{1,64})$",
        views.DroneDeliveryView.as_view(),
        name="drone-delivery",
    ),
    re_path(r"(?i)^api/drones$", views.DroneListView.as_view(), name="drones"),
    re_path(
        r"(?i)^api/drones/(?P<drone_id>[A-Za-z0-9_.-]{1,64})$",
        views.DroneDetailView.as_view(),
        name="drone",
    ),
]
