"""helm lint and helm template accept the chart with each environment's values."""

from __future__ import annotations

import subprocess

import pytest

from tests.deploy.conftest import CHART, ENVIRONMENTS, values_args

pytestmark = pytest.mark.helm


@pytest.mark.parametrize("env_name", sorted(ENVIRONMENTS))
def test_helm_lint_is_clean(helm, env_name):
    args = [helm, "lint", "--strict", str(CHART), *values_args(env_name)]
    result = subprocess.run(args, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("env_name", ["dev", "prod"])
def test_helm_template_renders_every_resource_kind(render, env_name):
    kinds = {d["kind"] for d in render(env_name).docs}
    assert kinds >= {
        "Deployment",
        "Service",
        "ServiceAccount",
        "ConfigMap",
        "SecretProviderClass",
        "Ingress",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "ResourceQuota",
        "LimitRange",
        "Job",
    }
    if env_name == "prod":
        assert "HorizontalPodAutoscaler" in kinds
