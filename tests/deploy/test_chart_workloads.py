"""Deployments, identities, secrets, autoscaling and disruption budgets in the rendered chart."""

from __future__ import annotations

import posixpath
import re

import pytest
import yaml

from fabrikam import roles as fabrikam_roles
from tests.deploy.conftest import NAMESPACE, ROOT, container, env_of, name, values
from tests.deploy.test_bicep import MODULES, params, read

pytestmark = pytest.mark.helm

ROLE_NAMES = set(fabrikam_roles.ROLES)
# Everything that serves requests or consumes the queue scales out; beat and the back office don't.
# The HTTP roles on CPU (an HPA), the workflow on its queue's length (a KEDA ScaledObject).
SCALABLE_IN_PROD = {"ingestion", "delivery", "package", "dronescheduler", "workflow"}
SCALED_ON_QUEUE = {"workflow"}
KIND = {
    fabrikam_roles.Process.HTTP: "http",
    fabrikam_roles.Process.WORKER: "worker",
    fabrikam_roles.Process.BEAT: "beat",
}


def deployments_by_role(manifest) -> dict[str, dict]:
    return {
        d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]: d
        for d in manifest.of("Deployment")
    }


def quantity(q) -> float:
    """Kubernetes CPU/memory quantity as a float (cores or bytes)."""
    s = str(q)
    units = {
        "m": 1e-3,
        "Ki": 2**10,
        "Mi": 2**20,
        "Gi": 2**30,
        "Ti": 2**40,
        "k": 1e3,
        "M": 1e6,
        "G": 1e9,
    }
    for suffix in sorted(units, key=len, reverse=True):
        if s.endswith(suffix):
            return float(s[: -len(suffix)]) * units[suffix]
    return float(s)


@pytest.mark.parametrize("env_name", ["default", "dev", "prod"])
def test_role_blocks_mirror_fabrikam_roles(env_name):
    chart_roles = values(env_name)["roles"]
    assert set(chart_roles) == ROLE_NAMES
    for role_name, role in fabrikam_roles.ROLES.items():
        block = chart_roles[role_name]
        assert block["kind"] == KIND[role.process], role_name
        assert block["public"] is role.public, role_name
        assert set(block["stores"]) == {str(s) for s in role.stores}, role_name


def test_one_deployment_per_enabled_role_from_one_image(manifest):
    by_role = deployments_by_role(manifest)
    assert set(by_role) == ROLE_NAMES
    images = set()
    for role, deployment in by_role.items():
        assert deployment["metadata"]["name"] == name(role)
        assert deployment["metadata"]["namespace"] == NAMESPACE
        c = container(deployment)
        assert env_of(c)["FABRIKAM_ROLE"] == role
        assert "command" not in c, "the image's ENTRYPOINT (manage.py serve) runs"
        assert "args" not in c, "the image's ENTRYPOINT (manage.py serve) runs"
        images.add(c["image"])
    assert len(images) == 1


def test_a_disabled_role_gets_no_workload(render):
    manifest = render("prod", "roles.package.enabled=false")
    assert "package" not in deployments_by_role(manifest)
    for kind in (
        "Deployment",
        "Service",
        "ServiceAccount",
        "SecretProviderClass",
        "HorizontalPodAutoscaler",
    ):
        assert name("package") not in manifest.names(kind), kind


def test_probes_hit_the_health_endpoints_on_port_8000(manifest):
    for role, deployment in deployments_by_role(manifest).items():
        c = container(deployment)
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        for probe, path in [
            ("startupProbe", "/healthz/startup"),
            ("readinessProbe", "/healthz/ready"),
            ("livenessProbe", "/healthz/live"),
        ]:
            get = c[probe]["httpGet"]
            assert get["path"] == path, (role, probe)
            port = ports.get(get["port"], get["port"])
            assert port == 8000, (role, probe)


def test_every_container_has_requests_within_limits(manifest):
    workloads = manifest.of("Deployment") + manifest.of("Job")
    for w in workloads:
        spec = w["spec"]["template"]["spec"]
        for c in spec.get("initContainers", []) + spec["containers"]:
            res = c["resources"]
            for r in ("cpu", "memory"):
                assert quantity(res["requests"][r]) <= quantity(res["limits"][r]), (c["name"], r)


def test_pods_run_non_root_read_only_with_no_capabilities(manifest):
    for w in manifest.of("Deployment") + manifest.of("Job"):
        pod = w["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] >= 10000
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["automountServiceAccountToken"] is False
        volumes = {v["name"]: v for v in pod["volumes"]}
        for c in pod.get("initContainers", []) + pod["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"]["drop"] == ["ALL"]
            assert sc.get("privileged", False) is False
            tmp = [m for m in c["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert tmp, "a writable /tmp"
            assert "emptyDir" in volumes[tmp[0]["name"]], "a writable /tmp"


def test_each_role_has_its_own_workload_identity(render):
    manifest = render("prod", *(f"azure.workloadIdentity.clientIds.{r}=id-{r}" for r in ROLE_NAMES))
    for role, deployment in deployments_by_role(manifest).items():
        pod = deployment["spec"]["template"]
        assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
        sa_name = pod["spec"]["serviceAccountName"]
        assert sa_name == name(role)
        sa = manifest.get("ServiceAccount", sa_name)
        assert sa["metadata"]["annotations"]["azure.workload.identity/client-id"] == f"id-{role}"
        assert sa["automountServiceAccountToken"] is False


def test_secrets_are_key_vault_files_named_by_file_env_vars(render, env):
    manifest = render(env, "azure.keyVault.name=kv-fab", "azure.tenantId=tenant-1")
    kv_secrets = values(env)["azure"]["keyVault"]["secrets"]
    for role, deployment in deployments_by_role(manifest).items():
        pod = deployment["spec"]["template"]["spec"]
        c = container(deployment)
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        file_envs = {k[: -len("_FILE")]: v for k, v in env_of(c).items() if k.endswith("_FILE")}
        expected = {"SECRET_KEY", "APPLICATIONINSIGHTS_CONNECTION_STRING"} | {
            {
                "database": "DATABASE_URL",
                "packages_database": "MONGODB_URI",
                "redis": "REDIS_URL",
                "broker": "CELERY_BROKER_URL",
            }[str(s)]
            for s in fabrikam_roles.ROLES[role].stores
        }
        assert set(file_envs) == expected, role
        for var, path in file_envs.items():
            csi = volumes[mounts[posixpath.dirname(path)]]["csi"]
            assert csi["driver"] == "secrets-store.csi.k8s.io"
            spc = manifest.get(
                "SecretProviderClass", csi["volumeAttributes"]["secretProviderClass"]
            )
            params = spc["spec"]["parameters"]
            assert params["keyvaultName"] == "kv-fab"
            assert params["tenantId"] == "tenant-1"
            objects = {
                o["objectAlias"]: o["objectName"]
                for o in (
                    yaml.safe_load(item) for item in yaml.safe_load(params["objects"])["array"]
                )
            }
            assert set(objects) == expected, f"{role} mounts only the secrets it needs"
            assert objects[posixpath.basename(path)] == kv_secrets[var]


def test_callers_get_in_cluster_service_urls(manifest):
    services = {s["metadata"]["name"]: s for s in manifest.of("Service")}
    by_role = deployments_by_role(manifest)
    expected_calls = {
        "workflow": {"package", "dronescheduler", "delivery"},
        "scheduler": {"delivery", "dronescheduler"},
    }
    for caller, callees in expected_calls.items():
        env = env_of(container(by_role[caller]))
        urls = {
            k[len("SERVICE_URL_") :].lower(): v
            for k, v in env.items()
            if k.startswith("SERVICE_URL_")
        }
        assert set(urls) == callees, caller
        for callee, url in urls.items():
            host, port = re.fullmatch(r"http://([a-z0-9-]+):(\d+)", url).groups()
            assert host == name(callee)
            svc = services[host]
            assert svc["spec"]["selector"]["app.kubernetes.io/component"] == callee
            assert int(port) in {p["port"] for p in svc["spec"]["ports"]}


def test_scheduler_is_a_single_beat_replaced_not_rolled(manifest):
    beat = deployments_by_role(manifest)["scheduler"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    targets = {h["spec"]["scaleTargetRef"]["name"] for h in manifest.of("HorizontalPodAutoscaler")}
    assert beat["metadata"]["name"] not in targets


@pytest.mark.parametrize(
    "override", ["roles.scheduler.replicas=2", "roles.scheduler.autoscaling.enabled=true"]
)
def test_chart_refuses_a_second_beat(render_fails, override):
    assert "beat" in render_fails("prod", override)


def test_prod_autoscales_every_scalable_role(render):
    manifest = render("prod")
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in manifest.of("HorizontalPodAutoscaler")}
    assert set(hpas) == {name(r) for r in SCALABLE_IN_PROD - SCALED_ON_QUEUE}
    deployments = {d["metadata"]["name"]: d for d in manifest.of("Deployment")}
    for target, hpa in hpas.items():
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        assert target in deployments
        assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
        # The HPA owns the replica count; a fixed one would be reset on every upgrade.
        assert "replicas" not in deployments[target]["spec"]


def test_budgets_cover_every_role_but_the_singleton_beat(manifest):
    by_role = deployments_by_role(manifest)
    pdbs = manifest.of("PodDisruptionBudget")
    covered = set()
    for pdb in pdbs:
        assert pdb["apiVersion"] == "policy/v1"
        selector = pdb["spec"]["selector"]["matchLabels"]
        matched = [
            r
            for r, d in by_role.items()
            if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matched) == 1, pdb["metadata"]["name"]
        covered.add(matched[0])
        assert "maxUnavailable" in pdb["spec"] or "minAvailable" in pdb["spec"]
    assert covered == ROLE_NAMES - {"scheduler"}


def test_pods_spread_over_zones_and_nodes(manifest):
    for deployment in manifest.of("Deployment"):
        pod = deployment["spec"]["template"]
        spread = pod["spec"]["topologySpreadConstraints"]
        assert {c["topologyKey"] for c in spread} == {
            "topology.kubernetes.io/zone",
            "kubernetes.io/hostname",
        }
        for c in spread:
            assert c["labelSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()


def test_quota_fits_every_role_at_full_scale_during_a_rollout(manifest):
    (quota,) = manifest.of("ResourceQuota")
    (limit_range,) = manifest.of("LimitRange")
    assert limit_range["spec"]["limits"][0]["type"] == "Container"
    hard = quota["spec"]["hard"]
    hpa_max = {
        h["spec"]["scaleTargetRef"]["name"]: h["spec"]["maxReplicas"]
        for h in manifest.of("HorizontalPodAutoscaler")
    } | {
        s["spec"]["scaleTargetRef"]["name"]: s["spec"]["maxReplicaCount"]
        for s in manifest.of("ScaledObject")
    }
    total = {
        "requests.cpu": 0.0,
        "requests.memory": 0.0,
        "limits.cpu": 0.0,
        "limits.memory": 0.0,
        "pods": 0.0,
    }
    workloads = [
        (d, hpa_max.get(d["metadata"]["name"], d["spec"].get("replicas", 1)))
        for d in manifest.of("Deployment")
    ]
    workloads += [(j, 1) for j in manifest.of("Job")]
    for w, n in workloads:
        # A rolling update may run a quarter more pods (maxSurge 25%, rounded up).
        pods = n + (
            -(-n // 4)
            if w["kind"] == "Deployment" and w["spec"]["strategy"]["type"] == "RollingUpdate"
            else 0
        )
        total["pods"] += pods
        for c in w["spec"]["template"]["spec"]["containers"]:
            for kind in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    total[f"{kind}.{r}"] += pods * quantity(c["resources"][kind][r])
    for key, needed in total.items():
        assert needed <= quantity(hard[key]), (
            f"quota {key}={hard[key]} < {needed} needed at full scale"
        )


# --- ephemeral storage -----------------------------------------------------------------------


def test_every_container_bounds_its_ephemeral_storage(manifest):
    """Requests and limits for ephemeral storage, the limit above what /tmp alone may hold."""
    for w in manifest.of("Deployment") + manifest.of("Job"):
        spec = w["spec"]["template"]["spec"]
        tmp = {v["name"]: v for v in spec["volumes"]}["tmp"]["emptyDir"]["sizeLimit"]
        for c in spec.get("initContainers", []) + spec["containers"]:
            res = c["resources"]
            request = quantity(res["requests"]["ephemeral-storage"])
            limit = quantity(res["limits"]["ephemeral-storage"])
            assert 0 < request <= limit, (w["metadata"]["name"], c["name"])
            assert limit > quantity(tmp), (w["metadata"]["name"], c["name"])


def test_a_role_may_set_its_own_ephemeral_storage(render):
    manifest = render("prod", "roles.package.resources.limits.ephemeral-storage=2Gi")
    limits = container(deployments_by_role(manifest)["package"])["resources"]["limits"]
    assert limits == {"cpu": "1", "memory": "512Mi", "ephemeral-storage": "2Gi"}


def test_the_namespace_defaults_bound_ephemeral_storage(manifest):
    (limit_range,) = manifest.of("LimitRange")
    (limits,) = limit_range["spec"]["limits"]
    assert "ephemeral-storage" in limits["default"]
    assert "ephemeral-storage" in limits["defaultRequest"]


# --- the workflow scales on its queue (KEDA) --------------------------------------------------


def scaled_objects(manifest) -> dict[str, dict]:
    return {s["spec"]["scaleTargetRef"]["name"]: s for s in manifest.of("ScaledObject")}


def test_prod_scales_the_workflow_on_its_service_bus_queue(render):
    manifest = render("prod")
    autoscaling = values("prod")["roles"]["workflow"]["autoscaling"]
    (target,) = scaled_objects(manifest)
    assert target == name("workflow")
    scaled = manifest.get("ScaledObject", name("workflow"))
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["spec"]["scaleTargetRef"]["kind"] == "Deployment"
    assert scaled["spec"]["minReplicaCount"] == autoscaling["minReplicas"] >= 2
    assert scaled["spec"]["maxReplicaCount"] == autoscaling["maxReplicas"]
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "azure-servicebus"
    meta = trigger["metadata"]
    assert meta["queueName"] == "deliveryrequests"
    # the namespace's name, from the Bicep output's FQDN (fixtures/bicep-outputs.yaml)
    assert meta["namespace"] == "sb-fabrikam-test"
    assert "cloud" not in meta
    assert int(meta["messageCount"]) >= 1
    assert "connectionFromEnv" not in meta, "no connection string: workload identity"

    # Only KEDA's own HPA drives the workflow: two HPAs on one Deployment fight.
    hpa_targets = {
        h["spec"]["scaleTargetRef"]["name"] for h in manifest.of("HorizontalPodAutoscaler")
    }
    assert name("workflow") not in hpa_targets
    assert "replicas" not in deployments_by_role(manifest)["workflow"]["spec"]


def test_keda_reads_the_queue_with_its_workload_identity(render):
    manifest = render("prod", "azure.keda.clientId=keda-client-id")
    (trigger,) = manifest.get("ScaledObject", name("workflow"))["spec"]["triggers"]
    auth = manifest.get("TriggerAuthentication", trigger["authenticationRef"]["name"])
    assert auth["apiVersion"] == "keda.sh/v1alpha1"
    assert auth["spec"] == {
        "podIdentity": {"provider": "azure-workload", "identityId": "keda-client-id"}
    }


def test_http_roles_keep_their_cpu_autoscaler(render):
    manifest = render("prod")
    hpas = {h["spec"]["scaleTargetRef"]["name"] for h in manifest.of("HorizontalPodAutoscaler")}
    for role in ("ingestion", "delivery", "package", "dronescheduler"):
        assert name(role) in hpas, role
        assert name(role) not in scaled_objects(manifest), role


def test_without_keda_the_workflow_scales_on_cpu(render):
    manifest = render("prod", "roles.workflow.keda.enabled=false")
    assert not manifest.of("ScaledObject")
    assert not manifest.of("TriggerAuthentication")
    hpa = manifest.get("HorizontalPodAutoscaler", name("workflow"))
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"


def test_a_sovereign_cloud_namespace_names_its_endpoint_suffix(render):
    manifest = render(
        "prod", "azure.serviceBusFullyQualifiedNamespace=sb-x.servicebus.chinacloudapi.cn"
    )
    (trigger,) = manifest.get("ScaledObject", name("workflow"))["spec"]["triggers"]
    assert trigger["metadata"]["namespace"] == "sb-x"
    assert trigger["metadata"]["cloud"] == "Private"
    assert trigger["metadata"]["endpointSuffix"] == "servicebus.chinacloudapi.cn"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("azure.keda.clientId=", "azure.keda.clientId"),
        ("azure.serviceBusFullyQualifiedNamespace=", "serviceBusFullyQualifiedNamespace"),
    ],
)
def test_keda_without_its_azure_values_is_refused(render_fails, override, message):
    assert message in render_fails("prod", override)


def test_the_scaled_queue_is_the_one_bicep_creates_and_the_workflow_consumes():
    queue = values("prod")["roles"]["workflow"]["keda"]["queueName"]
    assert queue == params(read(MODULES / "servicebus.bicep"))["queueName"].strip("'")
    # the chart sets no DELIVERY_REQUESTS_QUEUE: the workflow consumes the settings' default
    settings = (ROOT / "fabrikam" / "settings" / "messaging.py").read_text()
    default = re.search(r'env\.string\("DELIVERY_REQUESTS_QUEUE", "([^"]+)"\)', settings)
    assert default
    assert default[1] == queue
    for role in ("workflow", "ingestion"):
        assert "DELIVERY_REQUESTS_QUEUE" not in values("prod")["roles"][role]["env"]
