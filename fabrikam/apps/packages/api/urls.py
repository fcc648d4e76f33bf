from django.urls import path

from fabrikam.apps.packages.api import views

urlpatterns = [
    path("api/packages/<id:package_id>", views.PackageView.as_view(), name="package"),
]
