from django.urls import path

from fabrikam.apps.deliveries.pages import views

urlpatterns = [
    path("track/<str:delivery_id>", views.tracking_page, name="delivery-tracking-page"),
]
