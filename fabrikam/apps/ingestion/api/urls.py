from django.urls import re_path

from fabrikam.apps.ingestion.api import views

urlpatterns = [
    re_path(
        r"(?i)^api/deliveryrequests$",
        views.DeliveryRequestsView.as_view(),
        name="delivery-requests",
    ),
    re_path(
        r"(?i)^api/deliveryrequests/(?P<delivery_id>[A-Za-z0-9_.-]{1,64})$",
        views.DeliveryRequestView.as_view(),
        name="delivery-request",
    ),
]
