from django.urls import path

from fabrikam.apps.deliveries.api import views

urlpatterns = [
    path("api/deliveries/<id:delivery_id>", views.DeliveryView.as_view(), name="delivery"),
    path(
        "api/deliveries/<id:delivery_id>/events",
        views.DeliveryEventsView.as_view(),
        name="delivery-events",
    ),
]
