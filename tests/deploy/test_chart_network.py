"""NetworkPolicies, evaluated the way Kubernetes does, for the connections the design allows.

A small evaluator applies the rendered policies to pods built from the rendered Deployments:
a connection is allowed when the source's egress and the destination's ingress both allow it
(a pod no policy selects is unrestricted in that direction).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import pytest

from fabrikam import roles as fabrikam_roles
from tests.deploy.conftest import NAMESPACE
from tests.deploy.test_bicep import PARAM_FILES, param_values

pytestmark = pytest.mark.helm

INGRESS_NS = {"kubernetes.io/metadata.name": "app-routing-system"}
NGINX = {"app": "nginx"}
STORE_IP = "10.20.30.40"  # inside the default private-endpoint CIDR
ENTRA_IP = "20.190.128.10"  # a public Entra ID (login.microsoftonline.com) address
SERVICE_BUS_PUBLIC_IP = "40.127.4.20"  # a public address, where a Standard namespace answers
STORE_PORTS = {
    "database": [5432],
    "packages_database": [10260],  # Azure DocumentDB (MongoDB vCore)
    "redis": [6380, 10000],
    "broker": [5671],
}


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict = field(hash=False)
    ns_labels: dict = field(hash=False)


def selects(selector: dict | None, labels: dict) -> bool:
    selector = selector or {}
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, vals = expr["key"], expr["operator"], expr.get("values", [])
        ok = {
            "In": key in labels and labels[key] in vals,
            "NotIn": labels.get(key) not in vals,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def peer_matches(peer: dict, policy_ns: str, other) -> bool:
    if "ipBlock" in peer:
        if not isinstance(other, str):
            return False  # our pods have no IP in this model
        ip = ipaddress.ip_address(other)
        block = peer["ipBlock"]
        return ip in ipaddress.ip_network(block["cidr"]) and not any(
            ip in ipaddress.ip_network(e) for e in block.get("except", [])
        )
    if isinstance(other, str):
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], other.ns_labels):
            return False
    elif other.namespace != policy_ns:
        return False
    return selects(peer.get("podSelector"), other.labels)


def port_matches(ports: list | None, port: int, protocol: str) -> bool:
    return not ports or any(
        p.get("protocol", "TCP") == protocol and p.get("port") in (None, port) for p in ports
    )


def direction_allows(policies, pod: Pod, other, port: int, protocol: str, direction: str) -> bool:
    peers_key = "from" if direction == "Ingress" else "to"
    applicable = [
        p
        for p in policies
        if p["metadata"]["namespace"] == pod.namespace
        and direction in p["spec"].get("policyTypes", ["Ingress"])
        and selects(p["spec"]["podSelector"], pod.labels)
    ]
    if not applicable:
        return True
    for policy in applicable:
        for rule in policy["spec"].get(direction.lower()) or []:
            peers = rule.get(peers_key)
            if (
                not peers or any(peer_matches(pe, pod.namespace, other) for pe in peers)
            ) and port_matches(rule.get("ports"), port, protocol):
                return True
    return False


class Network:
    def __init__(self, manifest):
        self.policies = manifest.of("NetworkPolicy")
        self.pods = {}
        for w in manifest.of("Deployment") + manifest.of("Job"):
            labels = w["spec"]["template"]["metadata"]["labels"]
            self.pods[labels["app.kubernetes.io/component"]] = Pod(
                NAMESPACE, labels, {"kubernetes.io/metadata.name": NAMESPACE}
            )

    def allowed(self, src: Pod, dst, port: int, protocol: str = "TCP") -> bool:
        if not direction_allows(self.policies, src, dst, port, protocol, "Egress"):
            return False
        if isinstance(dst, str):
            return True  # an address outside the cluster: only our egress matters
        return direction_allows(self.policies, dst, src, port, protocol, "Ingress")


@pytest.fixture
def net(manifest) -> Network:
    return Network(manifest)


INGRESS_CONTROLLER = Pod("app-routing-system", NGINX, INGRESS_NS)
KUBE_DNS = Pod(
    "kube-system", {"k8s-app": "kube-dns"}, {"kubernetes.io/metadata.name": "kube-system"}
)
PUBLIC = {n for n, r in fabrikam_roles.ROLES.items() if r.public}
INTERNAL = set(fabrikam_roles.ROLES) - PUBLIC


@pytest.mark.parametrize("callee", ["package", "delivery", "dronescheduler"])
def test_workflow_reaches_the_three_services(net, callee):
    assert net.allowed(net.pods["workflow"], net.pods[callee], 8000)


@pytest.mark.parametrize("callee", ["delivery", "dronescheduler"])
def test_scheduler_reaches_delivery_and_dronescheduler(net, callee):
    assert net.allowed(net.pods["scheduler"], net.pods[callee], 8000)


def test_scheduler_does_not_reach_package(net):
    assert not net.allowed(net.pods["scheduler"], net.pods["package"], 8000)


def test_ingress_controller_reaches_public_roles_only(net):
    assert {"package", "dronescheduler", "workflow", "scheduler"} == INTERNAL
    for role in PUBLIC:
        assert net.allowed(INGRESS_CONTROLLER, net.pods[role], 8000), role
    for role in INTERNAL:
        assert not net.allowed(INGRESS_CONTROLLER, net.pods[role], 8000), role


def test_public_roles_cannot_reach_internal_services(net):
    for src in PUBLIC:
        for dst in INTERNAL:
            assert not net.allowed(net.pods[src], net.pods[dst], 8000), (src, dst)


def test_other_namespaces_and_unknown_pods_are_denied(net):
    stranger = Pod("default", {"app": "curl"}, {"kubernetes.io/metadata.name": "default"})
    newcomer = Pod(NAMESPACE, {"app": "debug"}, {"kubernetes.io/metadata.name": NAMESPACE})
    for role, pod in net.pods.items():
        assert not net.allowed(stranger, pod, 8000), role
        assert not net.allowed(newcomer, pod, 8000), role
    # default deny covers pods the chart does not know: nothing in, nothing out but DNS
    assert not net.allowed(INGRESS_CONTROLLER, newcomer, 8000)
    assert not net.allowed(stranger, newcomer, 8000)
    assert not net.allowed(newcomer, ENTRA_IP, 443)
    assert not net.allowed(newcomer, STORE_IP, 5432)
    assert net.allowed(newcomer, KUBE_DNS, 53, "UDP")


def test_every_pod_resolves_names_through_kube_dns_only(net):
    for role, pod in net.pods.items():
        assert net.allowed(pod, KUBE_DNS, 53, "UDP"), role
        assert net.allowed(pod, KUBE_DNS, 53, "TCP"), role
        assert not net.allowed(pod, "8.8.8.8", 53, "UDP"), role


def store_address(store: str, env: str) -> str:
    """Where a store answers: its private endpoint, but for a Standard (public) Service Bus."""
    if store == "broker" and service_bus_tier(env) == "Standard":
        return SERVICE_BUS_PUBLIC_IP
    return STORE_IP


def service_bus_tier(env: str) -> str:
    return param_values(PARAM_FILES[env])["serviceBusSku"].strip("'")


def test_each_role_reaches_exactly_its_own_stores(net, env):
    for role_name, role in fabrikam_roles.ROLES.items():
        pod = net.pods[role_name]
        for store, ports in STORE_PORTS.items():
            for port in ports:
                expected = store in {str(s) for s in role.stores}
                allowed = net.allowed(pod, store_address(store, env), port)
                assert allowed is expected, (role_name, store, port)


def test_migration_job_reaches_both_databases(net):
    for port in STORE_PORTS["database"] + STORE_PORTS["packages_database"]:
        assert net.allowed(net.pods["migrate"], STORE_IP, port)
    assert not net.allowed(net.pods["migrate"], STORE_IP, 6380)
    assert not net.allowed(INGRESS_CONTROLLER, net.pods["migrate"], 8000)


def test_every_workload_reaches_entra_id_over_https_only(net):
    for role, pod in net.pods.items():
        assert net.allowed(pod, ENTRA_IP, 443), role
        assert not net.allowed(pod, ENTRA_IP, 80), role
        # the public-endpoint rule must not open HTTPS to private addresses
        assert not net.allowed(pod, "192.168.1.1", 443), role


BROKER_ROLES = {
    n for n, r in fabrikam_roles.ROLES.items() if fabrikam_roles.Store.BROKER in r.stores
}


def test_broker_roles_reach_the_service_bus_tier_bicep_deploys(net, env):
    """Standard (dev) is public, with no private endpoint; Premium (prod) only private."""
    assert {"ingestion", "workflow", "scheduler"} == BROKER_ROLES
    tier = service_bus_tier(env)
    for role in BROKER_ROLES:
        pod = net.pods[role]
        for port in STORE_PORTS["broker"]:
            if tier == "Standard":
                assert net.allowed(pod, SERVICE_BUS_PUBLIC_IP, port), (env, role, port)
            else:
                assert tier == "Premium"
                assert net.allowed(pod, STORE_IP, port), (env, role, port)
                assert not net.allowed(pod, SERVICE_BUS_PUBLIC_IP, port), (env, role, port)
    # the public broker rule opens neither private addresses nor other ports
    assert not net.allowed(net.pods["workflow"], "192.168.1.1", 5671)
    assert not net.allowed(net.pods["workflow"], SERVICE_BUS_PUBLIC_IP, 5432)
    for role in set(net.pods) - BROKER_ROLES:
        assert not net.allowed(net.pods[role], SERVICE_BUS_PUBLIC_IP, 5671), (env, role)
