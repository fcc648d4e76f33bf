"""Each HTTP role mounts only its own routes (plus health and OpenAPI)."""

from types import ModuleType

import pytest
from django.test import override_settings

from fabrikam import roles
from fabrikam.urls import urlpatterns_for
from tests.packages.stores import PACKAGES_DATABASES

OWN_PATH = {
    "ingestion": "/api/deliveryrequests",
    "delivery": "/api/deliveries/some-id",
    "package": "/api/packages/some-id",
    "dronescheduler": "/api/drones",
    "admin": "/admin/login/",
}


def urlconf(role: str) -> ModuleType:
    module = ModuleType(f"urls_{role}")
    module.urlpatterns = urlpatterns_for(role)
    module.handler404 = "fabrikam.web.problems.not_found"
    return module


def route_exists(client, path: str) -> bool:
    """A mounted route answers with anything but the router's own "No resource" 404."""
    response = client.get(path)
    if response.status_code != 404:
        return True
    return not response.json().get("detail", "").startswith("No resource at")


@pytest.mark.django_db(databases=PACKAGES_DATABASES)
@pytest.mark.usefixtures("redis_store")
@pytest.mark.parametrize("role", roles.HTTP_ROLES)
def test_a_role_serves_its_own_routes_and_no_others(client, role):
    with override_settings(ROOT_URLCONF=urlconf(role), FABRIKAM_ROLE=role):
        assert route_exists(client, OWN_PATH[role])
        for other, path in OWN_PATH.items():
            if other != role:
                assert not route_exists(client, path), f"{role} must not serve {path}"
        assert client.get("/healthz/live").json() == {"status": "live", "role": role}
        assert client.get("/api/schema/").status_code == 200


@pytest.mark.django_db(databases=PACKAGES_DATABASES)
@pytest.mark.usefixtures("redis_store")
def test_all_serves_every_role(client):
    with override_settings(ROOT_URLCONF=urlconf(roles.ALL)):
        for path in OWN_PATH.values():
            assert route_exists(client, path), path


def test_the_openapi_schema_of_a_role_lists_only_its_paths(client):
    with override_settings(ROOT_URLCONF=urlconf("package")):
        schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert set(schema["paths"]) == {
        "/api/packages/{package_id}",
        "/api/packages/summary/{owner_id}",
    }


def test_an_unknown_role_is_refused_with_the_valid_ones():
    with pytest.raises(ValueError, match="unknown role 'billing': choose one of ingestion"):
        roles.get("billing")


def test_every_role_names_the_stores_its_readiness_checks():
    # Every HTTP role reads API clients (DATABASE) and counts throttles (REDIS).
    assert roles.stores("package") == {
        roles.Store.DATABASE,
        roles.Store.PACKAGES_DATABASE,
        roles.Store.REDIS,
    }
    assert roles.stores("workflow") == {roles.Store.REDIS, roles.Store.BROKER}
    assert roles.stores(roles.ALL) == set(roles.Store)
