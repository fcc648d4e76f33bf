"""Fail closed: every API view either declares the scopes of each of its methods or says it is
public; a new endpoint that forgets is caught here, and refused at run time meanwhile."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from fabrikam.apps.accounts.permissions import HasRequiredScope

PUBLIC = {
    "/api/deliveries/public/<id:delivery_id>",
    "/api/deliveries/public/<id:delivery_id>/status",
    "/api/deliveries/public/<id:delivery_id>/events",
    "/api/deliveries/<id:delivery_id>/stream",  # the tracking page's stream
    "/api/schema/",
    "/api/docs/",
}


def api_views(patterns=None, prefix: str = "/") -> list[tuple[str, type[APIView]]]:
    found = []
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found.extend(api_views(pattern.url_patterns, route))
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "view_class", None) or getattr(
                pattern.callback, "cls", None
            )
            if isinstance(view, type) and issubclass(view, APIView):
                found.append((route, view))
    return found


def test_each_api_method_declares_who_may_call_it():
    views = api_views()
    assert len(views) > 15
    public, undeclared = set(), []
    for route, view in views:
        if any(permission is AllowAny for permission in view.permission_classes):
            public.add(route)
            continue
        assert HasRequiredScope in view.permission_classes, route
        methods = {m.upper() for m in view.http_method_names if hasattr(view, m)} - {
            "OPTIONS",
            "HEAD",
        }
        undeclared += [(route, m) for m in methods if m not in getattr(view, "required_scopes", {})]
    assert undeclared == []
    assert public == PUBLIC


def test_the_openapi_document_offers_the_bearer_scheme(anonymous_api):
    response = anonymous_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = response.json()
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    operations = {
        op["operationId"]: op for path in schema["paths"].values() for op in path.values()
    }
    assert operations["getDelivery"]["security"] == [{"bearerAuth": []}]
    assert {} in operations["getPublicDelivery"]["security"]  # callable without a token
