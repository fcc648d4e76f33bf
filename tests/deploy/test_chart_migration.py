"""The migration Job: a pre-install/pre-upgrade hook that migrates both databases."""

from __future__ import annotations

import pytest

from tests.deploy.conftest import name

pytestmark = pytest.mark.helm

HOOK = "helm.sh/hook"
WEIGHT = "helm.sh/hook-weight"


def hooks(annotations: dict) -> set[str]:
    return set(annotations.get(HOOK, "").split(","))


def test_migrations_run_before_install_and_upgrade(manifest):
    job = manifest.get("Job", name("migrate"))
    assert {"pre-install", "pre-upgrade"} <= hooks(job["metadata"]["annotations"])
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    steps = [c["command"] for c in pod.get("initContainers", []) + pod["containers"]]
    assert steps == [
        ["python", "manage.py", "migrate", "--noinput"],
        ["python", "manage.py", "migrate", "--database", "packages", "--noinput"],
    ]
    assert job["spec"]["backoffLimit"] >= 1
    assert job["spec"]["activeDeadlineSeconds"] > 0


def test_job_uses_the_role_image(manifest):
    job = manifest.get("Job", name("migrate"))
    deployment_images = {
        c["image"]
        for d in manifest.of("Deployment")
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    pod = job["spec"]["template"]["spec"]
    assert {c["image"] for c in pod["initContainers"] + pod["containers"]} == deployment_images


def test_what_the_job_needs_exists_before_it_runs(manifest):
    """Hooks run before ordinary resources exist: the Job's identity, secrets and egress policy
    must be hooks of the same phases with a lower weight."""
    job = manifest.get("Job", name("migrate"))
    pod = job["spec"]["template"]
    job_weight = int(job["metadata"]["annotations"].get(WEIGHT, "0"))
    sa = manifest.get("ServiceAccount", pod["spec"]["serviceAccountName"])
    spc_names = {
        v["csi"]["volumeAttributes"]["secretProviderClass"]
        for v in pod["spec"]["volumes"]
        if "csi" in v
    }
    needed = [sa] + [manifest.get("SecretProviderClass", n) for n in spc_names]
    needed += [
        p
        for p in manifest.of("NetworkPolicy")
        if p["spec"]["podSelector"].get("matchLabels")
        and p["spec"]["podSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    ]
    assert len(needed) == 3, "ServiceAccount, SecretProviderClass and NetworkPolicy"
    for resource in needed:
        annotations = resource["metadata"].get("annotations", {})
        assert {"pre-install", "pre-upgrade"} <= hooks(annotations), resource["kind"]
        assert int(annotations.get(WEIGHT, "0")) < job_weight, resource["kind"]
    assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"


def test_migration_can_be_turned_off(render):
    manifest = render("prod", "migration.enabled=false")
    assert not manifest.of("Job")
    assert name("migrate") not in manifest.names("ServiceAccount")
