"""The security settings each workload gets from the chart: token issuer and audience, service
tokens, the hosts and proxies it trusts, throttles; the local signing-key mode; refusals."""

from __future__ import annotations

import os
import posixpath
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fabrikam import roles as fabrikam_roles
from tests.deploy.conftest import BICEP_OUTPUTS, ROOT, container, env_of, name, values

pytestmark = pytest.mark.helm

AZURE = yaml.safe_load(BICEP_OUTPUTS.read_text())["azure"]
HTTP_ROLES = {
    n for n, r in fabrikam_roles.ROLES.items() if r.process is fabrikam_roles.Process.HTTP
}
CALLERS = {"workflow", "scheduler"}
AUTH_VARS = {"AUTH_ENTRA_TENANT_ID", "AUTH_AUDIENCE", "AUTH_SERVICE_TOKEN_SCOPE"}


def pods(manifest) -> dict[str, dict]:
    """role (or `migrate`) -> its pod spec."""
    found = {}
    for w in manifest.of("Deployment") + manifest.of("Job"):
        template = w["spec"]["template"]
        found[template["metadata"]["labels"]["app.kubernetes.io/component"]] = template["spec"]
    return found


def containers_of(pod: dict) -> list[dict]:
    return pod.get("initContainers", []) + pod["containers"]


def role_env(manifest, role: str) -> dict[str, str]:
    return env_of(container(manifest.get("Deployment", name(role))))


def routed_roles(manifest) -> set[str]:
    """The roles whose Services the Ingress or HTTPRoute sends traffic to."""
    backends = [
        p["backend"]["service"]["name"]
        for ingress in manifest.of("Ingress")
        for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"]
    ] + [
        ref["name"]
        for route in manifest.of("HTTPRoute")
        for rule in route["spec"]["rules"]
        for ref in rule["backendRefs"]
    ]
    services = {s["metadata"]["name"]: s for s in manifest.of("Service")}
    return {services[b]["spec"]["selector"]["app.kubernetes.io/component"] for b in backends}


# --- Entra ID (the default) ------------------------------------------------------------------


def test_every_workload_validates_entra_tokens_for_the_api(manifest):
    found = pods(manifest)
    assert set(found) == {*fabrikam_roles.ROLES, "migrate"}
    for role, pod in found.items():
        for c in containers_of(pod):
            env = env_of(c)
            assert env["AUTH_ENTRA_TENANT_ID"] == AZURE["tenantId"], role
            # v2.0 tokens carry the client id as `aud`; the Application ID URI is accepted too.
            assert env["AUTH_AUDIENCE"].split(",") == [
                AZURE["api"]["clientId"],
                AZURE["api"]["applicationIdUri"],
            ], role
            assert "AUTH_SIGNING_KEY_FILE" not in env, role


def test_only_the_roles_that_call_services_get_a_service_token_scope(manifest):
    for role, pod in pods(manifest).items():
        for c in containers_of(pod):
            scope = env_of(c).get("AUTH_SERVICE_TOKEN_SCOPE")
            if role in CALLERS:
                assert scope == AZURE["api"]["serviceTokenScope"], role
            else:
                assert scope is None, role
    for role in CALLERS:
        assert values()["roles"][role]["calls"], f"{role} calls other services"


# --- hosts and proxies -----------------------------------------------------------------------


def test_http_roles_answer_the_ingress_host_and_the_service_name_they_are_called_by(manifest):
    host = manifest.of("Ingress")[0]["spec"]["rules"][0]["host"]
    routed = routed_roles(manifest)
    called_by = {}
    for caller in CALLERS:
        for var, url in role_env(manifest, caller).items():
            if var.startswith("SERVICE_URL_"):
                callee = var.removeprefix("SERVICE_URL_").lower()
                called_by.setdefault(callee, set()).add(url.split("//")[1].split(":")[0])
    assert set(called_by) == {"package", "dronescheduler", "delivery"}
    for role in HTTP_ROLES:
        allowed = set(role_env(manifest, role).get("ALLOWED_HOSTS", "").split(",")) - {""}
        extra = set(values()["roles"][role].get("extraAllowedHosts", []))
        expected = ({host} if role in routed else set()) | called_by.get(role, set()) | extra
        assert allowed == expected, role


def test_only_routed_roles_trust_the_ingress_forwarded_headers(render, env):
    for mode in ("ingress", "gateway"):
        manifest = render(env, f"ingress.mode={mode}")
        routed = routed_roles(manifest)
        assert {"ingestion", "delivery"} <= routed
        for role in HTTP_ROLES:
            e = role_env(manifest, role)
            if role in routed:
                assert (e["TRUST_X_FORWARDED_PROTO"], e["TRUSTED_PROXY_COUNT"]) == ("true", "1")
            else:
                # A pod calling it directly must not choose the client IP the throttles count.
                assert (e["TRUST_X_FORWARDED_PROTO"], e["TRUSTED_PROXY_COUNT"]) == ("false", "0")
        for role in CALLERS:
            assert not {"TRUST_X_FORWARDED_PROTO", "TRUSTED_PROXY_COUNT"} & set(
                role_env(manifest, role)
            ), "workers take no HTTP requests but probes"


def test_a_proxy_in_front_of_the_ingress_adds_a_trusted_hop(render):
    manifest = render("prod", "ingress.trustedProxyCount=2")
    assert role_env(manifest, "delivery")["TRUSTED_PROXY_COUNT"] == "2"
    assert role_env(manifest, "package")["TRUSTED_PROXY_COUNT"] == "0"


def test_nothing_is_trusted_as_a_proxy_without_an_ingress(render):
    manifest = render("prod", "ingress.enabled=false")
    for role in HTTP_ROLES:
        e = role_env(manifest, role)
        assert (e["TRUST_X_FORWARDED_PROTO"], e["TRUSTED_PROXY_COUNT"]) == ("false", "0"), role
        assert "drones.fabrikam.example.com" not in e.get("ALLOWED_HOSTS", ""), role


def test_the_exposed_admin_trusts_form_posts_from_its_https_origin(render):
    dev = role_env(render("dev"), "admin")
    assert dev["CSRF_TRUSTED_ORIGINS"] == "https://dev.fabrikam.example.com"
    assert "dev.fabrikam.example.com" in dev["ALLOWED_HOSTS"].split(",")
    prod = role_env(render("prod"), "admin")
    assert "CSRF_TRUSTED_ORIGINS" not in prod, "not routed in prod: reached by port-forward"
    assert prod["ALLOWED_HOSTS"].split(",") == ["localhost", "127.0.0.1"]


def test_throttle_rates_reach_every_http_role(render):
    manifest = render("prod", "throttle.clientRate=10/second", "throttle.ipRate=50/minute")
    for role in HTTP_ROLES:
        e = role_env(manifest, role)
        assert (e["THROTTLE_CLIENT_RATE"], e["THROTTLE_IP_RATE"]) == ("10/second", "50/minute")
    for role in CALLERS:
        assert "THROTTLE_CLIENT_RATE" not in role_env(manifest, role)


# --- local signing key -----------------------------------------------------------------------


def test_local_mode_mounts_the_signing_key_from_key_vault_in_every_workload(render):
    manifest = render(
        "prod",
        "auth.mode=local",
        "azure.api.clientId=",
        "azure.api.serviceTokenScope=",
        "auth.local.signingKeySecretName=fab-signing-key",
    )
    spcs = {s["metadata"]["name"]: s for s in manifest.of("SecretProviderClass")}
    for role, pod in pods(manifest).items():
        volumes = {v["name"]: v for v in pod["volumes"]}
        for c in containers_of(pod):
            env = env_of(c)
            assert not AUTH_VARS & set(env), f"{role}: no Entra settings in local mode"
            path = env["AUTH_SIGNING_KEY_FILE"]
            mount = next(m for m in c["volumeMounts"] if m["mountPath"] == posixpath.dirname(path))
            spc = spcs[volumes[mount["name"]]["csi"]["volumeAttributes"]["secretProviderClass"]]
            objects = [
                yaml.safe_load(o)
                for o in yaml.safe_load(spc["spec"]["parameters"]["objects"])["array"]
            ]
            assert {
                "objectName": "fab-signing-key",
                "objectType": "secret",
                "objectAlias": posixpath.basename(path),
            } in objects, role


def test_local_mode_needs_no_tenant(render):
    manifest = render("prod", "auth.mode=local", "azure.tenantId=")
    assert "AUTH_SIGNING_KEY_FILE" in role_env(manifest, "ingestion")


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sets", "named"),
    [
        (["azure.tenantId="], "azure.tenantId"),
        (["azure.api.clientId="], "azure.api.clientId"),
        (["azure.api.serviceTokenScope="], "azure.api.serviceTokenScope"),
        (["auth.mode=oidc"], "auth.mode"),
        (["auth.mode=local", "auth.local.signingKeySecretName="], "signingKeySecretName"),
        (["commonEnv.TRUSTED_PROXY_COUNT=3"], "TRUSTED_PROXY_COUNT"),
        (["roles.package.env.AUTH_AUDIENCE=api://other"], "AUTH_AUDIENCE"),
    ],
)
def test_inconsistent_auth_settings_are_refused(render_fails, sets, named):
    assert named in render_fails("prod", *sets)


def test_a_service_token_scope_is_needed_only_where_a_role_calls_another(render):
    manifest = render(
        "prod",
        "azure.api.serviceTokenScope=",
        "roles.workflow.enabled=false",
        "roles.scheduler.enabled=false",
    )
    assert "AUTH_ENTRA_TENANT_ID" in role_env(manifest, "delivery")


# --- the rendered env is Django's production configuration -----------------------------------

# Stand-ins for the Key Vault secrets the CSI driver mounts as files.
SECRET_FILES = {
    "DATABASE_URL": "postgres://fabrikam@db.example/fabrikam",
    "REDIS_URL": "rediss://cache.example:10000/0",
    "CELERY_BROKER_URL": "amqp://guest@broker.example//",
    "MONGODB_URI": "mongodb://fabrikam@mongo.example/fabrikam?tls=true",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "",
}


def production_env(manifest, role: str, secrets_dir: Path) -> dict[str, str]:
    """What the role's container would see: its env, the Azure ConfigMap, and its mounted secrets
    (written to secrets_dir, with a freshly generated SECRET_KEY)."""
    c = container(manifest.get("Deployment", name(role)))
    env = {e["name"]: e["value"] for e in c["env"] if "value" in e}
    for source in c.get("envFrom", []):
        env.update(manifest.get("ConfigMap", source["configMapRef"]["name"])["data"])
    mounted = {**SECRET_FILES, "SECRET_KEY": secrets.token_urlsafe(64)}
    for var, path in list(env.items()):
        if var.endswith("_FILE"):
            secret = var.removesuffix("_FILE")
            local = secrets_dir / posixpath.basename(path)
            local.write_text(mounted[secret])  # an unknown secret is a KeyError: add a stand-in
            env[var] = str(local)
    return env


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # Nothing from this process's environment but what Python needs to run.
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env_name", "role"), [("prod", "ingestion"), ("prod", "delivery"), ("dev", "admin")]
)
def test_the_rendered_env_passes_django_deployment_checks(render, tmp_path, env_name, role):
    env = production_env(render(env_name), role, tmp_path)
    assert env["FABRIKAM_ROLE"] == role
    assert "DEBUG" not in env
    result = check_deploy(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deployment_checks_catch_a_missing_setting(render, tmp_path):
    """The check above can fail: without the chart's ALLOWED_HOSTS Django warns (security.W020)."""
    env = production_env(render("prod"), "delivery", tmp_path)
    del env["ALLOWED_HOSTS"]
    result = check_deploy(env)
    assert result.returncode != 0
    assert "security.W020" in result.stdout + result.stderr
