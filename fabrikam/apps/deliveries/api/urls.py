from django.urls import path

from fabrikam.apps.deliveries.api import views

# `summary` and `public` first: they would also match as delivery ids.
urlpatterns = [
    path("api/deliveries/summary", views.SummaryView.as_view(), name="delivery-summary"),
    path(
        "api/deliveries/public/<id:delivery_id>",
        views.PublicDeliveryView.as_view(),
        name="delivery-public",
    ),
    path(
        "api/deliveries/public/<id:delivery_id>/status",
        views.PublicDeliveryStatusView.as_view(),
        name="delivery-public-status",
    ),
    path(
        "api/deliveries/public/<id:delivery_id>/events",
        views.PublicDeliveryEventsView.as_view(),
        name="delivery-public-events",
    ),
    path("api/deliveries/<id:delivery_id>", views.DeliveryView.as_view(), name="delivery"),
    path(
        "api/deliveries/<id:delivery_id>/owner",
        views.DeliveryOwnerView.as_view(),
        name="delivery-owner",
    ),
    path(
        "api/deliveries/<id:delivery_id>/status",
        views.DeliveryStatusView.as_view(),
        name="delivery-status",
    ),
    path(
        "api/deliveries/<id:delivery_id>/events",
        views.DeliveryEventsView.as_view(),
        name="delivery-events",
    ),
    path(
        "api/deliveries/<id:delivery_id>/stream",
        views.DeliveryStreamView.as_view(),
        name="delivery-stream",
    ),
    path(
        "api/deliveries/<id:delivery_id>/tracking",
        views.TrackingView.as_view(),
        name="delivery-tracking",
    ),
    path(
        "api/deliveries/<id:delivery_id>/confirmations",
        views.ConfirmationsView.as_view(),
        name="delivery-confirmations",
    ),
    path(
        "api/deliveries/<id:delivery_id>/notifymerequests",
        views.NotifyMeRequestsView.as_view(),
        name="delivery-notifymerequests",
    ),
]
