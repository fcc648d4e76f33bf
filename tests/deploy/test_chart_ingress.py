"""The public entry: only ingestion and delivery paths (and admin when asked) are routed."""

from __future__ import annotations

import pytest

from fabrikam import roles as fabrikam_roles
from tests.deploy.conftest import NAMESPACE

pytestmark = pytest.mark.helm

PUBLIC_ROUTES = {
    "/api/deliveryrequests": "ingestion",
    "/api/deliveries": "delivery",
    "/track": "delivery",
    "/static": "delivery",
}
INTERNAL = {n for n, r in fabrikam_roles.ROLES.items() if not r.public}


def ingress_routes(manifest) -> dict[str, str]:
    (ingress,) = manifest.of("Ingress")
    (rule,) = ingress["spec"]["rules"]
    routes = {}
    for p in rule["http"]["paths"]:
        assert p["pathType"] == "Prefix"
        routes[p["path"]] = p["backend"]["service"]["name"]
    return routes


def routed_roles(manifest, routes: dict[str, str]) -> dict[str, str]:
    """path -> the role of the pods the routed Service selects."""
    services = {s["metadata"]["name"]: s for s in manifest.of("Service")}
    return {
        path: services[svc]["spec"]["selector"]["app.kubernetes.io/component"]
        for path, svc in routes.items()
    }


def test_prod_ingress_routes_only_public_paths_over_tls(render):
    manifest = render("prod")
    (ingress,) = manifest.of("Ingress")
    assert ingress["spec"]["ingressClassName"] == "webapprouting.kubernetes.azure.com"
    host = ingress["spec"]["rules"][0]["host"]
    (tls,) = ingress["spec"]["tls"]
    assert tls["hosts"] == [host]
    assert tls["secretName"]
    routes = ingress_routes(manifest)
    assert routed_roles(manifest, routes) == PUBLIC_ROUTES
    assert not manifest.of("HTTPRoute")
    assert not manifest.of("Gateway")


def test_no_internal_role_is_ever_routed(render):
    for env in ("default", "dev", "prod"):
        for mode in ("ingress", "gateway"):
            manifest = render(env, f"ingress.mode={mode}", "ingress.exposeAdmin=true")
            routes = ingress_routes(manifest) if mode == "ingress" else httproute_routes(manifest)
            assert not set(routed_roles(manifest, routes).values()) & INTERNAL, (env, mode)


def test_admin_is_routed_only_when_exposed(render):
    assert "/admin" not in ingress_routes(render("prod"))
    dev = render("dev")
    assert routed_roles(dev, ingress_routes(dev)) == {**PUBLIC_ROUTES, "/admin": "admin"}


def test_key_vault_certificate_is_synced_by_the_add_on(render):
    uri = "https://kv-fab.vault.azure.net/certificates/drones"
    (ingress,) = render("prod", f"ingress.tls.keyVaultCertificateUri={uri}").of("Ingress")
    assert ingress["metadata"]["annotations"]["kubernetes.azure.com/tls-cert-keyvault-uri"] == uri


def httproute_routes(manifest) -> dict[str, str]:
    (route,) = manifest.of("HTTPRoute")
    routes = {}
    for rule in route["spec"]["rules"]:
        (match,) = rule["matches"]
        assert match["path"]["type"] == "PathPrefix"
        (backend,) = rule["backendRefs"]
        routes[match["path"]["value"]] = backend["name"]
    return routes


def test_gateway_mode_renders_a_gateway_and_httproute_instead(render):
    manifest = render("prod", "ingress.mode=gateway")
    assert not manifest.of("Ingress")
    (gateway,) = manifest.of("Gateway")
    (route,) = manifest.of("HTTPRoute")
    (parent,) = route["spec"]["parentRefs"]
    assert parent["name"] == gateway["metadata"]["name"]
    listener = next(
        li for li in gateway["spec"]["listeners"] if li["name"] == parent["sectionName"]
    )
    assert listener["protocol"] == "HTTPS"
    assert listener["tls"]["certificateRefs"]
    assert route["spec"]["hostnames"] == [listener["hostname"]]
    assert routed_roles(manifest, httproute_routes(manifest)) == PUBLIC_ROUTES


def test_gateway_mode_can_attach_to_an_existing_gateway(render):
    manifest = render(
        "prod",
        "ingress.mode=gateway",
        "ingress.gateway.create=false",
        "ingress.gateway.name=shared",
        "ingress.gateway.namespace=gateways",
    )
    assert not manifest.of("Gateway")
    (route,) = manifest.of("HTTPRoute")
    assert route["spec"]["parentRefs"][0] == {
        "name": "shared",
        "namespace": "gateways",
        "sectionName": "https",
    }


def test_unknown_ingress_mode_is_refused(render_fails):
    assert "ingress.mode" in render_fails("prod", "ingress.mode=loadbalancer")


def test_routing_to_a_disabled_public_role_is_refused(render_fails):
    assert "delivery" in render_fails("prod", "roles.delivery.enabled=false")


def test_a_gateway_in_its_own_namespace_admits_this_release_routes(render):
    same = render("prod", "ingress.mode=gateway").of("Gateway")[0]
    assert same["spec"]["listeners"][0]["allowedRoutes"]["namespaces"] == {"from": "Same"}
    (gateway,) = render("prod", "ingress.mode=gateway", "ingress.gateway.namespace=edge").of(
        "Gateway"
    )
    assert gateway["metadata"]["namespace"] == "edge"
    allowed = gateway["spec"]["listeners"][0]["allowedRoutes"]["namespaces"]
    assert allowed == {
        "from": "Selector",
        "selector": {"matchLabels": {"kubernetes.io/metadata.name": NAMESPACE}},
    }
