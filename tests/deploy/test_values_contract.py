"""The Azure values contract with deploy/bicep: which values Bicep outputs feed, by what name."""

from __future__ import annotations

import re

import pytest

from tests.deploy.conftest import CHART, container, name, values

BICEP_OUTPUTS = {
    "tenantId": "azure.tenantId",
    "acrLoginServer": "image.registry",
    "keyVaultName": "azure.keyVault.name",
    "workloadIdentityClientIds": "azure.workloadIdentity.clientIds",
    "serviceBusFullyQualifiedNamespace": "azure.serviceBusFullyQualifiedNamespace",
    "redisHostName": "azure.redisHostName",
    "postgresHostName": "azure.postgresHostName",
    "mongoClusterHostName": "azure.mongoClusterHostName",
    "applicationInsightsConnectionStringSecretName": (
        "azure.applicationInsightsConnectionStringSecretName"
    ),
    "apiClientId": "azure.api.clientId",
    "apiApplicationIdUri": "azure.api.applicationIdUri",
    "apiServiceTokenScope": "azure.api.serviceTokenScope",
    "kedaClientId": "azure.keda.clientId",
}
KEY_VAULT_SECRETS = {
    "SECRET_KEY": "django-secret-key",
    "DATABASE_URL": "database-url",
    "REDIS_URL": "redis-url",
    "MONGODB_URI": "mongodb-uri",
    "CELERY_BROKER_URL": "celery-broker-url",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "applicationinsights-connection-string",
}
IDENTITY_ROLES = {
    "ingestion",
    "delivery",
    "package",
    "dronescheduler",
    "admin",
    "workflow",
    "scheduler",
    "migrate",
}

KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.-]+):(?P<rest>.*)$")


def annotated_keys(marker: str) -> dict[str, str]:
    """dotted key path -> the text after `# <marker>` on that line of values.yaml."""
    found, stack = {}, []
    for line in (CHART / "values.yaml").read_text().splitlines():
        m = KEY_LINE.match(line)
        if not m:
            continue
        indent = len(m["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, m["key"]))
        comment = re.search(rf"#\s*{marker}\b:?\s*(\S*)", m["rest"])
        if comment:
            found[".".join(k for _, k in stack)] = comment.group(1)
    return found


def lookup(tree: dict, dotted: str):
    for part in dotted.split("."):
        tree = tree[part]
    return tree


def test_every_bicep_output_feeds_exactly_one_value():
    outputs = annotated_keys("bicep-output")
    assert {v: k for k, v in outputs.items()} == BICEP_OUTPUTS
    defaults = values()
    for path in outputs:
        lookup(defaults, path)  # the key really exists where the comment says


def test_azure_fed_values_live_under_azure_except_the_registry():
    for output, path in BICEP_OUTPUTS.items():
        assert path.startswith("azure.") or output == "acrLoginServer"


def test_client_ids_are_a_map_over_every_identity():
    assert set(values()["azure"]["workloadIdentity"]["clientIds"]) == IDENTITY_ROLES


def test_key_vault_secret_names():
    secrets = annotated_keys("bicep-secret")
    assert set(secrets) == {f"azure.keyVault.secrets.{k}" for k in KEY_VAULT_SECRETS}
    assert values()["azure"]["keyVault"]["secrets"] == KEY_VAULT_SECRETS


def test_contract_is_written_at_the_top_of_values():
    header = (CHART / "values.yaml").read_text().split("\n\n")[0]
    for output in BICEP_OUTPUTS:
        assert output in header, output


@pytest.mark.helm
def test_bicep_outputs_reach_the_rendered_resources(render):
    manifest = render(
        "prod",
        "image.registry=acrfab.azurecr.io",
        "image.tag=1.2.3",
        "azure.tenantId=tenant-1",
        "azure.keyVault.name=kv-fab",
        "azure.workloadIdentity.clientIds.migrate=id-migrate",
        "azure.serviceBusFullyQualifiedNamespace=sb-fab.servicebus.windows.net",
        "azure.redisHostName=redis-fab.redis.azure.net",
        "azure.postgresHostName=pg-fab.postgres.database.azure.com",
        "azure.mongoClusterHostName=mongo-fab.mongocluster.cosmos.azure.com",
        "azure.applicationInsightsConnectionStringSecretName=ai-conn",
    )
    for d in manifest.of("Deployment"):
        assert container(d)["image"] == "acrfab.azurecr.io/fabrikam/drone-delivery:1.2.3"
    assert (
        manifest.get("ServiceAccount", name("migrate"))["metadata"]["annotations"][
            "azure.workload.identity/client-id"
        ]
        == "id-migrate"
    )
    config = manifest.get("ConfigMap", name("azure"))["data"]
    assert set(config.values()) >= {
        "tenant-1",
        "sb-fab.servicebus.windows.net",
        "redis-fab.redis.azure.net",
        "pg-fab.postgres.database.azure.com",
        "mongo-fab.mongocluster.cosmos.azure.com",
    }
    spc = manifest.get("SecretProviderClass", name("delivery"))
    assert "objectName: ai-conn" in spc["spec"]["parameters"]["objects"]
    assert spc["spec"]["parameters"]["keyvaultName"] == "kv-fab"


@pytest.mark.helm
def test_image_can_be_pinned_by_digest(render):
    digest = "sha256:" + "a" * 64
    manifest = render("prod", "image.registry=acrfab.azurecr.io", f"image.digest={digest}")
    for d in manifest.of("Deployment"):
        assert container(d)["image"] == f"acrfab.azurecr.io/fabrikam/drone-delivery@{digest}"
