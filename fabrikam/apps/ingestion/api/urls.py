from django.urls import path

from fabrikam.apps.ingestion.api import views

urlpatterns = [
    path("api/deliveryrequests", views.DeliveryRequestsView.as_view(), name="delivery-requests"),
    path(
        "api/deliveryrequests/<str:deliveryId>",
        views.DeliveryRequestView.as_view(),
        name="delivery-request",
    ),
]
