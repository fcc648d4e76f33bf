from django.urls import re_path

from fabrikam.apps.deliveries.api import views

ID = r"(?P<delivery_id>[A-Za-z0-9_.-]{1,64})"

urlpatterns = [
    re_path(rf"(?i)^api/deliveries/{ID}$", views.DeliveryView.as_view(), name="delivery"),
    re_path(
        rf"(?i)^api/deliveries/{ID}/events$",
        views.DeliveryEventsView.as_view(),
        name="delivery-events",
    ),
]
