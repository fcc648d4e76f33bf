from django.urls import path

from fabrikam.apps.common import views

urlpatterns = [
    path("live", views.live, name="health-live"),
    path("ready", views.ready, name="health-ready"),
    path("startup", views.startup, name="health-startup"),
]
