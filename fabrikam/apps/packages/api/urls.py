from django.urls import re_path

from fabrikam.apps.packages.api import views

urlpatterns = [
    re_path(
        r"(?i)^api/packages/(?P<package_id>[A-Za-z0-9_.-]{1,128})$",
        views.PackageView.as_view(),
        name="package",
    ),
]
