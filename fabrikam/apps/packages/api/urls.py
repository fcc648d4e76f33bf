from django.urls import path

from fabrikam.apps.packages.api import views

urlpatterns = [
    # `str`, not `id`: an owner id is whatever the ingestion accepted (up to 128 characters).
    path(
        "api/packages/summary/<str:owner_id>",
        views.OwnerSummaryView.as_view(),
        name="package-summary",
    ),
    path("api/packages/<id:package_id>", views.PackageView.as_view(), name="package"),
]
