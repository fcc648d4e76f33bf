"""Checks on the Bicep templates in deploy/bicep: checkov, and consistency with the Helm chart and
the role map. Pure Python: no Django, no Azure access, no bicep compiler.

The templates are read as text. Our own files follow the formatting `bicep format` produces (one
property per line, objects and arrays opened at the end of a line), which is what the small
helpers below rely on.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fabrikam.apps.accounts import scopes
from fabrikam.roles import ROLES, Store
from tests.support.tools import require_tool

REPO = Path(__file__).resolve().parents[2]
BICEP_DIR = REPO / "deploy" / "bicep"
MODULES = BICEP_DIR / "modules"
MAIN = BICEP_DIR / "main.bicep"
API_APP = MODULES / "api-app-registration.bicep"
DEPLOYER = MODULES / "deployer.bicep"
# checkov's Bicep parser fails on the `extension` keyword (Bicep extensions such as Microsoft Graph)
# and has no checks for Microsoft.Graph resources, and fails on functions it does not know
# (deployer()): these files are checked by the tests below.
CHECKOV_UNPARSED = [API_APP, DEPLOYER]
PARAM_FILES = {"dev": BICEP_DIR / "main.dev.bicepparam", "prod": BICEP_DIR / "main.prod.bicepparam"}
HELM_VALUES = REPO / "deploy" / "helm" / "fabrikam" / "values.yaml"
FIXTURE_VALUES = Path(__file__).parent / "fixtures" / "values.yaml"

WORKLOAD_ROLES = {*ROLES, "migrate"}
AGREED_OUTPUTS = {
    "tenantId",
    "acrLoginServer",
    "keyVaultName",
    "workloadIdentityClientIds",
    "serviceBusFullyQualifiedNamespace",
    "redisHostName",
    "postgresHostName",
    "mongoClusterHostName",
    "applicationInsightsConnectionStringSecretName",
    "aksClusterName",
    "resourceGroupName",
    "keyVaultSecretNames",
    "apiClientId",
    "apiApplicationIdUri",
    "apiServiceTokenScope",
    "kedaClientId",
}
REQUIRED_SECRETS = {
    "django-secret-key",
    "database-url",
    "redis-url",
    "mongodb-uri",
    "celery-broker-url",
    "applicationinsights-connection-string",
}
ROLE_IDS = {
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Azure Service Bus Data Sender": "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
    "Azure Service Bus Data Receiver": "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
    "Azure Service Bus Data Owner": "090c5cfd-751d-490a-894a-3ce6f1109419",
    "Azure Kubernetes Service Cluster User Role": "4abbcc35-e782-43d8-92c5-2d3abe75df38",
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
}


# --- reading Bicep as text -------------------------------------------------------------------


def strip_comments(text: str) -> str:
    """Drop `//` and `/* */` comments, leaving quoted strings (which may hold `//`) alone."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "'":
            j = i + 1
            while j < n and text[j] != "'":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def read(path: Path) -> str:
    return strip_comments(path.read_text())


def balanced(text: str, start: int) -> str:
    """The text of the bracketed block opening at text[start] ('{' or '['), without the brackets."""
    pairs = {"{": "}", "[": "]"}
    opener = text[start]
    assert opener in pairs, f"no block opens at {text[start : start + 40]!r}"
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == "'":
            i = text.index("'", i + 1)
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
        i += 1
    raise AssertionError("unbalanced block")


def resource(text: str, type_: str, symbol: str | None = None) -> str:
    """Body of the (first) resource declaration of `type_` (and symbolic name), loops included."""
    name = re.escape(symbol) if symbol else r"\w+"
    match = re.search(
        rf"^resource\s+{name}\s+'{re.escape(type_)}@[^']+'\s*=\s*(?:if\s*\(.*\)\s*)?", text, re.M
    )
    assert match, f"no resource {symbol or ''} of type {type_}"
    return balanced(text, match.end())


def section(block: str, key: str) -> str:
    """Body of `key: {` or `key: [` inside a block."""
    match = re.search(rf"^\s*'?{re.escape(key)}'?\s*:\s*(?=[{{\[])", block, re.M)
    assert match, f"no {key} block"
    return balanced(block, match.end())


def prop(block: str, key: str) -> str:
    """Value of the first `key: value` line in the block."""
    match = re.search(rf"^\s*'?{re.escape(key)}'?\s*:\s*(.+?)\s*$", block, re.M)
    assert match, f"no property {key}"
    return match.group(1)


def string_array(body: str) -> list[str]:
    return re.findall(r"'([^']*)'", body)


def var_block(text: str, name: str) -> str:
    match = re.search(rf"^var\s+{re.escape(name)}\s*=\s*(?=[{{\[])", text, re.M)
    assert match, f"no var {name}"
    return balanced(text, match.end())


def var_strings(text: str, name: str) -> list[str]:
    return string_array(var_block(text, name))


def outputs(text: str) -> dict[str, str]:
    """Output name -> the expression after `=` (first line)."""
    return dict(re.findall(r"^output\s+(\w+)\s+\w+\s*=\s*(.*)$", text, re.M))


def params(text: str) -> dict[str, str | None]:
    """Param name -> default expression, or None when the param has no default."""
    found = {}
    for name, default in re.findall(r"^param\s+(\w+)\s+\w+(?:\s*=\s*(.*))?$", text, re.M):
        found[name] = default or None
    return found


def secure_params(text: str) -> set[str]:
    return set(re.findall(r"@secure\(\)\s*\n(?:@[^\n]*\n)*param\s+(\w+)", text))


def module(text: str, symbol: str) -> str:
    match = re.search(rf"^module\s+{re.escape(symbol)}\s+'[^']+'\s*=\s*", text, re.M)
    assert match, f"no module {symbol}"
    return balanced(text, match.end())


# --- reading the chart's markers -------------------------------------------------------------


def helm_values_text() -> str:
    if not HELM_VALUES.is_file():
        pytest.fail(
            f"{HELM_VALUES.relative_to(REPO)} is missing: the Bicep outputs must be checked "
            "against "
            "the real chart values (this is a failure, not a skip)",
            pytrace=False,
        )
    return HELM_VALUES.read_text()


def bicep_output_markers(values_text: str) -> set[str]:
    return set(re.findall(r"#\s*bicep-output:\s*([A-Za-z_]\w*)", values_text))


def bicep_secret_markers(values_text: str) -> set[str]:
    """Secret names on lines marked `# bicep-secret`, as `- name`, `- name: x` or `key: x`."""
    names = set()
    for line in values_text.splitlines():
        code, sep, comment = line.partition("#")
        if not sep or not re.match(r"\s*bicep-secret\b", comment):
            continue
        value = code.strip().removeprefix("- ").strip()
        if ":" in value:
            value = value.rsplit(":", 1)[1].strip()
        value = value.strip("'\"")
        assert re.fullmatch(r"[0-9A-Za-z-]{1,127}", value), f"not a Key Vault secret name: {line!r}"
        names.add(value)
    return names


def yaml_strings(node) -> set[str]:
    if isinstance(node, dict):
        return set().union(*(yaml_strings(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(yaml_strings(v) for v in node)) if node else set()
    return {node} if isinstance(node, str) else set()


# --- checkov ---------------------------------------------------------------------------------


def find_checkov() -> str:
    """$CHECKOV_BIN, else the checkov beside this Python (a venv not on PATH), else PATH."""
    beside = Path(sys.executable).with_name("checkov")
    if not os.environ.get("CHECKOV_BIN") and os.access(beside, os.X_OK):
        return str(beside)
    return require_tool(
        "checkov",
        env_var="CHECKOV_BIN",
        hint="pip install checkov (or point CHECKOV_BIN at a checkov in its own venv)",
    )


def run_checkov(directory: Path) -> dict:
    checkov = find_checkov()
    skips = [
        arg
        for path in CHECKOV_UNPARSED
        for arg in ("--skip-path", re.escape(path.relative_to(BICEP_DIR).as_posix()) + "$")
    ]
    # --skip-download: no calls to the vendor's platform; this runs offline.
    result = subprocess.run(
        [
            checkov,
            "-d",
            str(directory),
            "--framework",
            "bicep",
            "-o",
            "json",
            "--skip-download",
            *skips,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    assert result.returncode in (0, 1), (
        f"checkov crashed ({result.returncode}):\n{result.stderr[-3000:]}"
    )
    report = json.loads(result.stdout)
    if isinstance(report, list):  # one entry per framework
        (report,) = [r for r in report if r.get("check_type") == "bicep"]
    return report


@pytest.fixture(scope="module")
def checkov_report() -> dict:
    return run_checkov(BICEP_DIR)


def test_checkov_passes_with_justified_skips(checkov_report):
    summary, results = checkov_report["summary"], checkov_report["results"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in results["failed_checks"]
    ]
    assert summary["parsing_errors"] == 0, f"checkov could not parse: {results['parsing_errors']}"
    assert failed == [], "checkov failures:\n" + "\n".join(failed)
    assert summary["passed"] > 0
    for check in results["skipped_checks"]:
        reason = (check.get("check_result", {}).get("suppress_comment") or "").lstrip(": ").strip()
        assert len(reason) >= 20, (
            f"{check['check_id']} on {check['resource']} is skipped without a reason"
        )


def test_checkov_scanned_every_template(checkov_report):
    results = checkov_report["results"]
    scanned = {
        c["resource"].rsplit(".", 1)[0]
        for kind in ("passed_checks", "failed_checks", "skipped_checks")
        for c in results[kind]
    }
    for type_ in (
        "Microsoft.ContainerService/managedClusters",
        "Microsoft.ContainerRegistry/registries",
        "Microsoft.KeyVault/vaults",
        "Microsoft.KeyVault/vaults/secrets",
    ):
        assert type_ in scanned, f"checkov evaluated no {type_}: are the templates still parsed?"


def test_checkov_skips_only_templates_it_cannot_parse():
    """A skipped path is one that uses a Bicep extension or deployer(), and every such file is
    skipped; one that uses deployer() declares no resource (nothing escapes the scan)."""
    unparsed = {
        p
        for p in [MAIN, *MODULES.glob("*.bicep")]
        if re.search(r"^extension\s|\bdeployer\(\)", read(p), re.M)
    }
    assert unparsed == set(CHECKOV_UNPARSED)
    assert not re.search(r"^resource\s", read(DEPLOYER), re.M)


def test_checkov_catches_a_broken_property(tmp_path):
    """The checkov test is real: the same scan fails once a hardened property is weakened."""
    copy = tmp_path / "bicep"
    shutil.copytree(BICEP_DIR, copy)
    vault = copy / "modules" / "keyvault.bicep"
    text = vault.read_text()
    assert "enablePurgeProtection: true" in text
    vault.write_text(text.replace("enablePurgeProtection: true", "enablePurgeProtection: false"))
    failed = {c["check_id"] for c in run_checkov(copy)["results"]["failed_checks"]}
    assert "CKV_AZURE_110" in failed


# --- consistency with the chart --------------------------------------------------------------


def test_marker_parser_reads_the_fixture():
    text = FIXTURE_VALUES.read_text()
    assert bicep_output_markers(text) == {
        "acrLoginServer",
        "tenantId",
        "keyVaultName",
        "workloadIdentityClientIds",
    }
    assert bicep_secret_markers(text) == {
        "django-secret-key",
        "database-url",
        "redis-url",
        "applicationinsights-connection-string",
    }


def test_every_helm_bicep_output_is_a_main_output():
    wanted = bicep_output_markers(helm_values_text())
    assert wanted, "values.yaml has no `# bicep-output:` markers"
    missing_outputs = wanted - set(outputs(read(MAIN)))
    assert not missing_outputs, (
        f"values.yaml wants outputs main.bicep lacks: {sorted(missing_outputs)}"
    )


def test_every_helm_secret_is_created_by_bicep():
    text = helm_values_text()
    marked = bicep_secret_markers(text)
    assert marked, "values.yaml has no `# bicep-secret` markers"
    listed = yaml_strings(((yaml.safe_load(text) or {}).get("azure") or {}).get("keyVault") or {})
    assert marked <= listed, f"marked secrets not under azure.keyVault: {sorted(marked - listed)}"
    created = set(var_strings(read(MAIN), "keyVaultSecretNames"))
    assert not marked - created, (
        f"secrets the chart reads but Bicep never writes: {sorted(marked - created)}"
    )


# --- outputs and secrets ---------------------------------------------------------------------


def test_agreed_outputs_exist():
    assert not AGREED_OUTPUTS - set(outputs(read(MAIN)))


def test_secret_names_output_lists_what_is_written():
    main = read(MAIN)
    names = var_strings(main, "keyVaultSecretNames")
    assert set(names) >= REQUIRED_SECRETS
    assert len(names) == len(set(names))
    assert outputs(main)["keyVaultSecretNames"].strip() == "keyVaultSecretNames"
    assert (
        outputs(main)["applicationInsightsConnectionStringSecretName"].strip()
        == "applicationInsightsSecretName"
    )
    assert (
        re.search(r"^var applicationInsightsSecretName = '([^']+)'", main, re.M).group(1)
        == "applicationinsights-connection-string"
    )

    secrets_module = module(main, "keyVaultSecrets")
    assert prop(secrets_module, "secretNames") == "keyVaultSecretNames"
    values = section(secrets_module, "secretValues")
    keys = re.findall(r"^\s*'([^']+)'\s*:", values, re.M)
    assert sorted(keys) == sorted(names), "every listed secret gets exactly one value"

    # The module really creates one vault secret per listed name.
    secret = resource(read(MODULES / "keyvault-secrets.bicep"), "Microsoft.KeyVault/vaults/secrets")
    assert re.search(r"for\s+secretName\s+in\s+secretNames\s*:", secret)
    assert prop(secret, "name") == "secretName"
    assert prop(secret, "value") == "secretValues[secretName]"


def test_no_secret_in_the_templates_or_parameter_files():
    main = read(MAIN)
    declared = params(main)
    for name in secure_params(main):
        assert declared[name] is None, f"secure param {name} has a default"
    for env, path in PARAM_FILES.items():
        text = read(path)
        for name in secure_params(main):
            assert re.search(rf"^param {name} = readEnvironmentVariable\('\w+'\)$", text, re.M), (
                f"{env}: {name} must come from the environment"
            )


def test_workload_identity_client_ids_cover_every_role():
    body = outputs_object(read(MAIN), "workloadIdentityClientIds")
    entries = dict(re.findall(r"^\s*(\w+):\s*(.+?)\s*$", body, re.M))
    assert set(entries) == WORKLOAD_ROLES
    for role, expression in entries.items():
        assert expression == f"workloadIdentity[indexOf(workloadRoles, '{role}')].outputs.clientId"


def outputs_object(text: str, name: str) -> str:
    match = re.search(rf"^output\s+{name}\s+object\s*=\s*(?=\{{)", text, re.M)
    assert match, f"no object output {name}"
    return balanced(text, match.end())


# --- identities and access -------------------------------------------------------------------


def test_every_role_has_an_identity_with_a_federated_credential():
    main = read(MAIN)
    assert set(var_strings(main, "workloadRoles")) == WORKLOAD_ROLES

    identity_module = module(main, "workloadIdentity")
    assert re.search(r"for\s+role\s+in\s+workloadRoles\s*:", identity_module)
    assert prop(identity_module, "role") == "role"
    assert prop(identity_module, "oidcIssuerUrl") == "aks.outputs.oidcIssuerUrl"
    assert (
        outputs(read(MODULES / "aks.bicep"))["oidcIssuerUrl"]
        == "cluster.properties.oidcIssuerProfile.issuerURL"
    )

    template = read(MODULES / "workload-identity.bicep")
    resource(template, "Microsoft.ManagedIdentity/userAssignedIdentities", "identity")
    credential = resource(
        template, "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
    )
    assert prop(credential, "parent") == "identity"
    assert prop(credential, "issuer") == "oidcIssuerUrl"
    assert prop(credential, "subject") == "subject"
    assert (
        params(template)["subject"]
        == "'system:serviceaccount:${kubernetesNamespace}:${helmReleaseName}-${role}'"
    )
    assert "subject" not in identity_module, "the roles' identities trust the chart's accounts"
    assert string_array(section(credential, "audiences")) == ["api://AzureADTokenExchange"]


def roles_needing(store: Store) -> set[str]:
    return {name for name, role in ROLES.items() if store in role.stores}


def test_data_plane_access_follows_the_role_map():
    main = read(MAIN)
    redis = set(var_strings(main, "redisRoles"))
    postgres = set(var_strings(main, "postgresRoles"))
    queue_senders = set(var_strings(main, "serviceBusQueueSenderRoles"))
    senders = set(var_strings(main, "serviceBusSenderRoles"))
    receivers = set(var_strings(main, "serviceBusReceiverRoles"))

    assert redis == roles_needing(Store.REDIS)
    assert postgres == roles_needing(Store.DATABASE) | {"migrate"}
    assert queue_senders | senders | receivers == roles_needing(Store.BROKER)
    # the workflow consumes deliveryrequests; the scheduler its own flight ticks
    assert receivers == {"workflow", "scheduler"}
    assert "workflow" in senders, "the workflow re-sends (dead-letter replay)"
    assert queue_senders == {"ingestion"}

    servicebus = module(main, "serviceBus")
    for param, var in (
        ("queueSenderPrincipalIds", "serviceBusQueueSenderRoles"),
        ("namespaceSenderPrincipalIds", "serviceBusSenderRoles"),
        ("namespaceReceiverPrincipalIds", "serviceBusReceiverRoles"),
    ):
        assert re.search(rf"for\s+role\s+in\s+{var}\s*:", section(servicebus, param))
    assert re.search(r"for\s+role\s+in\s+redisRoles\s*:", section(module(main, "redis"), "users"))
    assert re.search(
        r"for\s+role\s+in\s+postgresRoles\s*:", section(module(main, "postgres"), "users")
    )
    readers = prop(module(main, "keyVault"), "secretReaderPrincipalIds")
    assert re.search(r"for\s+\(role,\s*i\)\s+in\s+workloadRoles\s*:", readers), (
        "every role reads Key Vault"
    )


def role_assignments(text: str) -> list[str]:
    return [
        balanced(text, m.end())
        for m in re.finditer(
            r"^resource\s+\w+\s+'Microsoft.Authorization/roleAssignments@[^']+'\s*=\s*(?:if\s*\(.*\)\s*)?",
            text,
            re.M,
        )
    ]


def test_role_assignments_grant_the_agreed_roles():
    servicebus = read(MODULES / "servicebus.bicep")
    assert re.search(
        rf"^var senderRoleId = '{ROLE_IDS['Azure Service Bus Data Sender']}'", servicebus, re.M
    )
    assert re.search(
        rf"^var receiverRoleId = '{ROLE_IDS['Azure Service Bus Data Receiver']}'", servicebus, re.M
    )
    scopes = {
        re.search(r"for principalId in (\w+)", body).group(1): (prop(body, "scope"), body)
        for body in role_assignments(servicebus)
    }
    assert scopes["queueSenderPrincipalIds"][0] == "queue"
    assert "senderRoleId" in scopes["queueSenderPrincipalIds"][1]
    assert scopes["namespaceReceiverPrincipalIds"][0] == "namespace"
    assert "receiverRoleId" in scopes["namespaceReceiverPrincipalIds"][1]

    vault = read(MODULES / "keyvault.bicep")
    assert re.search(
        rf"^var secretsUserRoleId = '{ROLE_IDS['Key Vault Secrets User']}'", vault, re.M
    )
    (reader,) = role_assignments(vault)
    assert prop(reader, "scope") == "vault"
    assert "secretsUserRoleId" in reader

    # AcrPull exists once, for the kubelet identity only.
    everywhere = [
        p for p in [MAIN, *MODULES.glob("*.bicep")] if ROLE_IDS["AcrPull"] in p.read_text()
    ]
    assert everywhere == [MODULES / "registry.bicep"]
    (pull,) = role_assignments(read(MODULES / "registry.bicep"))
    assert prop(pull, "principalId") == "kubeletPrincipalId"
    assert (
        prop(module(read(MAIN), "registry"), "kubeletPrincipalId")
        == "aks.outputs.kubeletPrincipalId"
    )
    assert (
        "identityProfile.kubeletidentity.objectId"
        in outputs(read(MODULES / "aks.bicep"))["kubeletPrincipalId"]
    )


# --- the API's Entra app registration --------------------------------------------------------


def test_graph_extension_is_pinned_in_bicepconfig():
    config = json.loads((BICEP_DIR / "bicepconfig.json").read_text())
    assert re.fullmatch(
        r"br:mcr\.microsoft\.com/bicep/extensions/microsoftgraph/v1\.0:\d+\.\d+\.\d+",
        config["extensions"]["microsoftGraphV1"],
    )
    assert re.search(r"^extension microsoftGraphV1$", read(API_APP), re.M)


def app_roles() -> dict[str, list[str]]:
    """App role value -> allowedMemberTypes, from the module's appRoles variable."""
    body = var_block(read(API_APP), "appRoles")
    roles = {}
    for match in re.finditer(r"^\s*value:\s*'([^']+)'", body, re.M):
        entry = body[match.start() : body.find("]", match.end()) + 1]
        roles[match.group(1)] = string_array(section(entry, "allowedMemberTypes"))
    return roles


def test_app_registration_defines_the_scopes_the_api_checks():
    roles = app_roles()
    assert set(roles) == set(scopes.ALL)
    # Business clients and the services are apps (client credentials); people only get admin.
    assert roles[scopes.INTERNAL] == ["Application"]
    assert roles[scopes.READ] == roles[scopes.WRITE] == ["Application"]
    assert set(roles[scopes.ADMIN]) == {"User", "Application"}

    text = read(API_APP)
    app = resource(text, "Microsoft.Graph/applications", "app")
    assert prop(app, "uniqueName") == "uniqueName"
    assert prop(app, "signInAudience") == "'AzureADMyOrg'"
    assert section(app, "identifierUris").split() == ["identifierUri"]
    # v2.0 tokens: the issuer AUTH_ENTRA_TENANT_ID derives, and `aud` = the client id.
    assert prop(section(app, "api"), "requestedAccessTokenVersion") == "2"
    declared = section(app, "appRoles")
    assert re.search(r"for\s+role\s+in\s+appRoles\s*:", declared)
    assert prop(declared, "id") == "guid(uniqueName, role.value)"
    assert prop(declared, "value") == "role.value"
    assert prop(declared, "isEnabled") == "true"

    principal = resource(text, "Microsoft.Graph/servicePrincipals", "servicePrincipal")
    assert prop(principal, "appId") == "app.appId"
    assert prop(principal, "appRoleAssignmentRequired") == "true"


def test_the_calling_roles_identities_get_the_internal_role():
    text = read(API_APP)
    assignment = resource(text, "Microsoft.Graph/appRoleAssignedTo", "internalCallers")
    assert re.search(r"for\s+principalId\s+in\s+internalCallerPrincipalIds\s*:", assignment)
    assert prop(assignment, "resourceId") == "servicePrincipal.id"
    assert prop(assignment, "appRoleId") == f"guid(uniqueName, '{scopes.INTERNAL}')"
    assert prop(assignment, "principalId") == "principalId"

    main = read(MAIN)
    chart_roles = yaml.safe_load(helm_values_text())["roles"]
    callers = {name for name, role in chart_roles.items() if role.get("calls")}
    assert set(var_strings(main, "internalCallerRoles")) == callers == {"workflow", "scheduler"}
    app_module = module(main, "apiApp")
    assert re.search(
        r"for\s+role\s+in\s+internalCallerRoles\s*:\s*"
        r"workloadIdentity\[indexOf\(workloadRoles, role\)\]\.outputs\.principalId",
        section(app_module, "internalCallerPrincipalIds"),
    )
    assert prop(app_module, "uniqueName") == "apiAppName"
    # api://<tenant id>/<name> is a format Entra accepts in every tenant (no verified domain).
    assert prop(app_module, "identifierUri") == "'api://${tenant().tenantId}/${apiAppName}'"


def test_app_registration_outputs_are_the_chart_auth_values():
    found = outputs(read(MAIN))
    assert found["apiClientId"] == "apiApp.outputs.clientId"
    assert found["apiApplicationIdUri"] == "apiApp.outputs.applicationIdUri"
    assert found["apiServiceTokenScope"] == "'${apiApp.outputs.applicationIdUri}/.default'"
    module_outputs = outputs(read(API_APP))
    assert module_outputs["clientId"] == "app.appId"
    assert module_outputs["applicationIdUri"] == "identifierUri"


# --- resource properties that matter ---------------------------------------------------------


def test_delivery_requests_queue():
    text = read(MODULES / "servicebus.bicep")
    assert params(text)["queueName"] == "'deliveryrequests'"
    queue = resource(text, "Microsoft.ServiceBus/namespaces/queues", "queue")
    assert prop(queue, "properties") == "queueProperties"
    settings = var_block(text, "queueProperties")
    assert prop(settings, "lockDuration") == "'PT5M'"
    assert prop(settings, "deadLetteringOnMessageExpiration") == "true"
    assert prop(settings, "requiresDuplicateDetection") == "true"
    assert prop(settings, "duplicateDetectionHistoryTimeWindow") == "'PT10M'"
    assert 1 < int(prop(settings, "maxDeliveryCount")) <= 10
    namespace = resource(text, "Microsoft.ServiceBus/namespaces", "namespace")
    assert prop(namespace, "disableLocalAuth") == "true"
    assert prop(section(namespace, "sku"), "name") == "sku"
    assert params(text)["sku"] is None, "the tier (Standard or Premium) is a parameter"


def test_aks_cluster():
    cluster = resource(read(MODULES / "aks.bicep"), "Microsoft.ContainerService/managedClusters")
    network = section(cluster, "networkProfile")
    assert prop(network, "networkPlugin") == "'azure'"
    assert prop(network, "networkDataplane") == "'cilium'"
    assert prop(network, "networkPolicy") == "'cilium'"
    aad = section(cluster, "aadProfile")
    assert prop(aad, "managed") == "true"
    assert prop(aad, "enableAzureRBAC") == "true"
    assert prop(cluster, "disableLocalAccounts") == "true"
    assert prop(section(cluster, "oidcIssuerProfile"), "enabled") == "true"
    assert (
        prop(section(section(cluster, "securityProfile"), "workloadIdentity"), "enabled") == "true"
    )
    assert prop(section(section(cluster, "ingressProfile"), "webAppRouting"), "enabled") == "true"
    oms = section(section(cluster, "addonProfiles"), "omsagent")
    assert prop(oms, "enabled") == "true"
    assert prop(oms, "logAnalyticsWorkspaceResourceID") == "logAnalyticsWorkspaceId"
    pools = section(cluster, "agentPoolProfiles")
    assert sorted(re.findall(r"^\s*mode:\s*'(\w+)'", pools, re.M)) == ["System", "User"]
    assert re.findall(r"^\s*enableAutoScaling:\s*(\w+)", pools, re.M) == ["true", "true"]
    assert (
        prop(module(read(MAIN), "aks"), "logAnalyticsWorkspaceId")
        == "monitoring.outputs.workspaceId"
    )


def test_key_vault_and_data_stores_use_entra_auth():
    vault = resource(read(MODULES / "keyvault.bicep"), "Microsoft.KeyVault/vaults")
    for key in ("enableRbacAuthorization", "enableSoftDelete", "enablePurgeProtection"):
        assert prop(vault, key) == "true", key
    redis = resource(read(MODULES / "redis.bicep"), "Microsoft.Cache/redisEnterprise/databases")
    assert prop(redis, "accessKeysAuthentication") == "'Disabled'"
    postgres = section(
        resource(read(MODULES / "postgres.bicep"), "Microsoft.DBforPostgreSQL/flexibleServers"),
        "authConfig",
    )
    assert prop(postgres, "activeDirectoryAuth") == "'Enabled'"
    assert prop(postgres, "passwordAuth") == "'Disabled'"
    insights = resource(read(MODULES / "monitoring.bicep"), "Microsoft.Insights/components")
    assert prop(insights, "WorkspaceResourceId") == "workspace.id"


# --- parameter files -------------------------------------------------------------------------


def param_values(path: Path) -> dict[str, str]:
    text = read(path)
    assert re.search(r"^using '\./main\.bicep'$", text, re.M), f"{path.name} must use ./main.bicep"
    values = {}
    for match in re.finditer(r"^param\s+(\w+)\s*=\s*", text, re.M):
        start = match.end()
        values[match.group(1)] = (
            balanced(text, start) if text[start] in "{[" else text[start:].split("\n", 1)[0].strip()
        )
    return values


@pytest.mark.parametrize("env", sorted(PARAM_FILES))
def test_parameter_file_sets_every_required_param(env):
    declared = params(read(MAIN))
    values = param_values(PARAM_FILES[env])
    assert not set(values) - set(declared), (
        f"{env} sets unknown params: {set(values) - set(declared)}"
    )
    required = {name for name, default in declared.items() if default is None}
    assert not required - set(values), (
        f"{env} misses required params: {sorted(required - set(values))}"
    )
    assert values["environmentName"] == f"'{env}'"


def test_prod_is_zone_redundant_and_larger_than_dev():
    dev, prod = param_values(PARAM_FILES["dev"]), param_values(PARAM_FILES["prod"])
    assert prod["zoneRedundant"] == "true"
    assert dev["zoneRedundant"] == "false"
    assert len(string_array(prod["availabilityZones"])) >= 2
    assert prod["serviceBusSku"] == "'Premium'"
    assert prod["acrSku"] == "'Premium'"
    assert prod["redisHighAvailability"] == "true"
    assert prod["aksSkuTier"] == "'Standard'"
    for pool in ("systemPool", "userPool"):
        assert int(prop(prod[pool], "minCount")) >= 3 > int(prop(dev[pool], "minCount")), pool
    assert int(prod["postgresBackupRetentionDays"]) > int(dev["postgresBackupRetentionDays"])


# --- outputs -> helm arguments ----------------------------------------------------------------


def test_outputs_become_helm_set_arguments(tmp_path):
    outputs = {
        "acrLoginServer": {"type": "String", "value": "acrfabrikamdev.azurecr.io"},
        "tenantId": {"type": "String", "value": "tenant-1"},
        "keyVaultName": {"type": "String", "value": "kv-fabrikam-dev-abc123"},
        "workloadIdentityClientIds": {
            "type": "Object",
            "value": {"ingestion": "c1", "migrate": "c8"},
        },
    }
    values = tmp_path / "values.yaml"
    values.write_text(FIXTURE_VALUES.read_text())
    out = tmp_path / "outputs.json"
    out.write_text(json.dumps(outputs))
    script = BICEP_DIR / "outputs_to_helm_args.py"
    result = subprocess.run(
        [sys.executable, str(script), str(values), str(out)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    args = result.stdout.split("\0")[:-1]
    assert args == [
        "--set-string", "image.repository=acrfabrikamdev.azurecr.io",
        "--set-string", "azure.tenantId=tenant-1",
        "--set-string", "azure.keyVault.name=kv-fabrikam-dev-abc123",
        "--set-json", 'azure.workloadIdentity.clientIds={"ingestion":"c1","migrate":"c8"}',
    ]  # fmt: skip

    del outputs["keyVaultName"]
    out.write_text(json.dumps(outputs))
    result = subprocess.run(
        [sys.executable, str(script), str(values), str(out)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "keyVaultName" in result.stderr


# --- first install: who may reach the cluster, and in what order things are written ----------


def test_the_pipeline_and_an_admin_group_may_use_the_cluster():
    """Local accounts are off, so without these assignments `helm upgrade` gets 403."""
    aks = read(MODULES / "aks.bicep")
    cluster = resource(aks, "Microsoft.ContainerService/managedClusters")
    assert prop(cluster, "disableLocalAccounts") == "true"
    role_ids = dict(re.findall(r"^var (\w+RoleId) = '([^']+)'", aks, re.M))
    granted = {role_ids[symbol] for symbol in var_block(aks, "clusterAccessRoleIds").split()}
    assert granted == {
        ROLE_IDS["Azure Kubernetes Service Cluster User Role"],  # az aks get-credentials
        ROLE_IDS["Azure Kubernetes Service RBAC Cluster Admin"],  # what helm creates
    }
    by_principal = {
        re.search(r"^\s*principalId:\s*(\S+)\s*$", body, re.M)[1]: body
        for body in role_assignments(aks)
    }
    pipeline = by_principal["clusterAdminPrincipalId"]
    group = by_principal["clusterAdminGroupObjectId"]
    for body in (pipeline, group):
        assert re.search(r"for\s+roleId\s+in\s+clusterAccessRoleIds\s*:", body)
        assert prop(body, "scope") == "cluster"
        assert prop(body, "roleDefinitionId").endswith(
            "'Microsoft.Authorization/roleDefinitions', roleId)"
        )
    assert re.search(
        r"clusterAccessRoleIds\s*:\s*if\s*\(!empty\(clusterAdminGroupObjectId\)\)", group
    )
    assert prop(group, "principalType") == "'Group'"

    main = read(MAIN)
    assert params(main)["pipelinePrincipalId"] == "''"
    assert params(main)["clusterAdminGroupObjectId"] == "''"
    aks_module = module(main, "aks")
    # CI deploys as the pipeline's principal (deployer()); by hand, name it explicitly.
    assert (
        prop(aks_module, "clusterAdminPrincipalId")
        == "empty(pipelinePrincipalId) ? deploying.outputs.objectId : pipelinePrincipalId"
    )
    assert re.search(r"^module deploying 'modules/deployer\.bicep'", main, re.M)
    assert outputs(read(DEPLOYER))["objectId"] == "deployer().objectId"
    assert prop(aks_module, "clusterAdminGroupObjectId") == "clusterAdminGroupObjectId"
    for env, path in PARAM_FILES.items():
        values = param_values(path)
        assert values["pipelinePrincipalId"] == (
            "readEnvironmentVariable('FABRIKAM_PIPELINE_PRINCIPAL_ID', '')"
        ), env
        assert values["clusterAdminGroupObjectId"] == (
            "readEnvironmentVariable('FABRIKAM_AKS_ADMIN_GROUP_ID', '')"
        ), env
    workflow = yaml.safe_load(
        (REPO / ".github" / "workflows" / "deploy-environment.yml").read_text()
    )
    (bicep_step,) = [
        s for s in workflow["jobs"]["deploy"]["steps"] if s.get("name") == "Deploy Bicep"
    ]
    assert "FABRIKAM_AKS_ADMIN_GROUP_ID" in bicep_step["env"]
    assert "FABRIKAM_PIPELINE_PRINCIPAL_ID" not in bicep_step["env"], "deployer() is the pipeline"


def children_of_server(text: str) -> dict[str, str]:
    """Symbol -> body of every resource or module the PostgreSQL server's deployment writes
    besides the server: child resources (`parent: server`) and modules given `server.id`."""
    found = {}
    for m in re.finditer(r"^(resource|module)\s+(\w+)\s+'[^']+'\s*=\s*", text, re.M):
        body = balanced(text, m.end())
        if re.search(r"^\s*parent:\s*server\s*$", body, re.M) or "server.id" in body:
            found[m[2]] = body
    return found


def depends_on(body: str) -> list[str]:
    match = re.search(r"^\s*dependsOn\s*:\s*(?=\[)", body, re.M)
    return balanced(body, match.end()).split() if match else []


def test_postgresql_children_are_written_one_after_another():
    """The flexible server runs one operation at a time: its database, configuration,
    administrators and private endpoint must not be written in parallel."""
    text = read(MODULES / "postgres.bicep")
    children = children_of_server(text)
    assert {"database", "logConnections", "administrator", "endpoint"} <= set(children)
    deps = {symbol: depends_on(body) for symbol, body in children.items()}
    (first,) = [s for s, d in deps.items() if not d]
    chain = [first]
    while True:
        nxt = [s for s, d in deps.items() if d == [chain[-1]]]
        if not nxt:
            break
        assert len(nxt) == 1, f"{nxt} all wait for {chain[-1]} only: they run in parallel"
        chain.append(nxt[0])
    assert sorted(chain) == sorted(children), f"not one chain: {deps}"
    # the administrators themselves, one at a time
    assert re.search(r"@batchSize\(1\)\s*\nresource administrator ", text)


def test_key_vault_name_can_move_past_a_soft_deleted_vault():
    """Purge protection keeps a deleted vault's name for 90 days; re-creating an environment
    needs another name (keyVaultGeneration) or the old vault recovered (documented)."""
    main = read(MAIN)
    assert params(main)["keyVaultGeneration"] == "1"
    name = prop(section(module(main, "keyVault"), "params"), "name")
    assert "string(keyVaultGeneration)" in name, "the generation must change the name"
    longest = re.sub(r"\$\{take\(.*?,\s*(\d+)\)\}", lambda m: "x" * int(m[1]), name.strip("'"))
    longest = longest.replace("${environmentName}", max(PARAM_FILES, key=len))
    assert "${" not in longest
    assert 3 <= len(longest) <= 24, f"Key Vault names have 3-24 characters: {longest}"
    vault = resource(read(MODULES / "keyvault.bicep"), "Microsoft.KeyVault/vaults")
    assert prop(vault, "enablePurgeProtection") == "true"
    readme = (BICEP_DIR / "README.md").read_text()
    assert "keyVaultGeneration" in readme
    assert "az keyvault recover" in readme


def test_keda_add_on_reads_the_queue_with_its_own_identity():
    cluster = resource(read(MODULES / "aks.bicep"), "Microsoft.ContainerService/managedClusters")
    keda = section(section(cluster, "workloadAutoScalerProfile"), "keda")
    assert prop(keda, "enabled") == "true"

    main = read(MAIN)
    identity = module(main, "kedaIdentity")
    assert prop(identity, "subject") == "'system:serviceaccount:kube-system:keda-operator'"
    assert prop(identity, "oidcIssuerUrl") == "aks.outputs.oidcIssuerUrl"
    assert outputs(main)["kedaClientId"] == "kedaIdentity.outputs.clientId"
    owners = section(module(main, "serviceBus"), "queueOwnerPrincipalIds").split()
    assert owners == ["kedaIdentity.outputs.principalId"]

    servicebus = read(MODULES / "servicebus.bicep")
    assert re.search(
        rf"^var ownerRoleId = '{ROLE_IDS['Azure Service Bus Data Owner']}'", servicebus, re.M
    )
    (owner,) = [b for b in role_assignments(servicebus) if "queueOwnerPrincipalIds" in b]
    assert prop(owner, "scope") == "queue", "Manage on the scaled queue only"
    assert "ownerRoleId" in prop(owner, "roleDefinitionId")


def test_chart_store_ports_are_those_of_the_services_bicep_deploys():
    stores = yaml.safe_load(helm_values_text())["stores"]
    # DocumentDB (MongoDB vCore) listens on 10260, not Cosmos DB RU's 10255 nor MongoDB's 27017.
    resource(read(MODULES / "mongo.bicep"), "Microsoft.DocumentDB/mongoClusters")
    assert stores["packages_database"]["ports"] == [10260]
    secrets = section(module(read(MAIN), "keyVaultSecrets"), "secretValues")
    assert ":5432/" in prop(secrets, "database-url")
    assert stores["database"]["ports"] == [5432]
    redis = resource(read(MODULES / "redis.bicep"), "Microsoft.Cache/redisEnterprise/databases")
    assert int(prop(redis, "port")) in stores["redis"]["ports"]
