"""Every pod tells its telemetry which pod, namespace and node it is (Kubernetes downward API)."""

from __future__ import annotations

import pytest

from tests.deploy.conftest import container, helm, render  # noqa: F401 - fixtures

pytestmark = [pytest.mark.helm]

DOWNWARD = {
    "K8S_POD_NAME": "metadata.name",
    "K8S_POD_UID": "metadata.uid",
    "K8S_NAMESPACE_NAME": "metadata.namespace",
    "K8S_NODE_NAME": "spec.nodeName",
}


@pytest.mark.parametrize("environment", ["default", "dev", "prod"])
def test_every_role_gets_its_pod_namespace_and_node_from_the_downward_api(render, environment):  # noqa: F811
    deployments = render(environment).of("Deployment")
    assert deployments
    for deployment in deployments:
        env = {e["name"]: e for e in container(deployment)["env"]}
        for variable, field_path in DOWNWARD.items():
            assert env[variable]["valueFrom"]["fieldRef"]["fieldPath"] == field_path, deployment[
                "metadata"
            ]["name"]
