"""URLs for the role this process serves (`FABRIKAM_ROLE`): its own routes, health and OpenAPI.

A path that belongs to another role is not mounted here, so it answers 404.
"""

from django.conf import settings
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from fabrikam import roles


def urlpatterns_for(role: str) -> list:
    return [
        path("healthz/", include("fabrikam.apps.common.urls")),
        path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
        # The split view serves its start-up script as a file of its own (`?script`): the page
        # has no inline script, so it runs under CONTENT_SECURITY_POLICY.
        path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
        *(path("", include(module)) for module in roles.url_modules(role)),
    ]


urlpatterns = urlpatterns_for(settings.FABRIKAM_ROLE)

handler400 = "fabrikam.web.problems.bad_request"
handler404 = "fabrikam.web.problems.not_found"
handler500 = "fabrikam.web.problems.server_error"
