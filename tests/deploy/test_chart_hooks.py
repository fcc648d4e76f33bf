"""What the migration hook's pod may reach while it runs, from the policies that exist by then.

Helm runs the pre-install/pre-upgrade hooks before it creates any ordinary resource: on a first
install the namespace holds only the hooks created ahead of the Job (lower weight), so neither
`<release>-default-deny` nor `<release>-allow-dns` exists yet; on an upgrade the last release's
ordinary resources are there too. The Job must reach DNS, PostgreSQL and the packages store in both.
"""

from __future__ import annotations

import pytest

from tests.deploy.conftest import name
from tests.deploy.test_chart_network import ENTRA_IP, KUBE_DNS, STORE_IP, STORE_PORTS, Network

pytestmark = pytest.mark.helm

HOOK = "helm.sh/hook"
WEIGHT = "helm.sh/hook-weight"


def hook_events(doc: dict) -> set[str]:
    annotations = doc["metadata"].get("annotations") or {}
    return {e.strip() for e in annotations.get(HOOK, "").split(",") if e.strip()}


def weight(doc: dict) -> int:
    return int((doc["metadata"].get("annotations") or {}).get(WEIGHT, "0"))


class HookTime(Network):
    """The network as the migration Job's pod finds it during `event`.

    Hooks of the event are created in weight order and the Job is waited for; a hook of the same
    weight as the Job is not counted as present (Helm orders those by kind and name). `previous`:
    the ordinary resources of the release being upgraded, None on a first install.
    """

    def __init__(self, manifest, event: str, previous=None):
        super().__init__(manifest)
        job = manifest.get("Job", name("migrate"))
        assert event in hook_events(job), f"the migration Job is no {event} hook"
        present = [
            p
            for p in manifest.of("NetworkPolicy")
            if event in hook_events(p) and weight(p) < weight(job)
        ]
        if previous is not None:
            present += [p for p in previous.of("NetworkPolicy") if not hook_events(p)]
        self.policies = present
        self.pod = self.pods["migrate"]


@pytest.fixture(params=["first install", "upgrade"])
def hook_time(request, manifest) -> HookTime:
    if request.param == "first install":
        return HookTime(manifest, "pre-install")
    return HookTime(manifest, "pre-upgrade", previous=manifest)


def test_a_first_install_has_only_the_hooks_policies(manifest):
    net = HookTime(manifest, "pre-install")
    names = {p["metadata"]["name"] for p in net.policies}
    assert names == {name("migrate")}, "no ordinary policy (default-deny, allow-dns) exists yet"


def test_migration_resolves_names_through_kube_dns(hook_time):
    assert hook_time.allowed(hook_time.pod, KUBE_DNS, 53, "UDP")
    assert hook_time.allowed(hook_time.pod, KUBE_DNS, 53, "TCP")


def test_migration_reaches_postgresql_and_the_packages_store(hook_time):
    for port in STORE_PORTS["database"] + STORE_PORTS["packages_database"]:
        assert hook_time.allowed(hook_time.pod, STORE_IP, port), port
    assert 10260 in STORE_PORTS["packages_database"], "DocumentDB (MongoDB vCore) listens on 10260"


def test_migration_gets_its_token_from_entra_id(hook_time):
    assert hook_time.allowed(hook_time.pod, ENTRA_IP, 443)


def test_migration_reaches_nothing_else(hook_time):
    # its own policy selects it from the start: no Redis, no broker, no other DNS server
    for port in STORE_PORTS["redis"] + STORE_PORTS["broker"]:
        assert not hook_time.allowed(hook_time.pod, STORE_IP, port), port
    assert not hook_time.allowed(hook_time.pod, "8.8.8.8", 53, "UDP")
