"""Fixtures for the deployment tests: render the Helm chart with real helm and parse the YAML.

helm is found through $HELM_BIN or PATH (`bash .ci/install-helm.sh` builds the pinned one);
checkov and hadolint through $CHECKOV_BIN / $HADOLINT_BIN or PATH
(`bash .ci/install-lint-tools.sh`). Missing tools skip locally and fail under CI=true.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.support.tools import require_tool

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "fabrikam"
RELEASE = "fab"
NAMESPACE = "drones"
ENVIRONMENTS = {
    "default": (),
    "dev": (CHART / "values-dev.yaml",),
    "prod": (CHART / "values-prod.yaml",),
}
# The Bicep-fed values every real install passes; the chart refuses to render without them.
BICEP_OUTPUTS = Path(__file__).parent / "fixtures" / "bicep-outputs.yaml"


def values_args(env: str) -> list[str]:
    """helm's --values arguments for an environment, after the Bicep-fed values."""
    args = ["--values", str(BICEP_OUTPUTS)]
    for values in ENVIRONMENTS[env]:
        args += ["--values", str(values)]
    return args


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "helm: needs the helm binary (HELM_BIN or PATH)")


@dataclass
class Manifest:
    """The documents of one `helm template` run."""

    docs: list[dict]

    def of(self, kind: str) -> list[dict]:
        return [d for d in self.docs if d["kind"] == kind]

    def get(self, kind: str, name: str) -> dict:
        found = [d for d in self.of(kind) if d["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
        return found[0]

    def names(self, kind: str) -> set[str]:
        return {d["metadata"]["name"] for d in self.of(kind)}


def name(role: str) -> str:
    return f"{RELEASE}-{role}"


@pytest.fixture(scope="session")
def helm() -> str:
    return require_tool("helm", "HELM_BIN", hint="run `bash .ci/install-helm.sh`")


@pytest.fixture(scope="session")
def render(helm):
    """render(env, *set_args) -> Manifest; raises CalledProcessError when helm refuses."""
    cache: dict[tuple, Manifest] = {}

    def _render(env: str = "default", *sets: str) -> Manifest:
        key = (env, *sets)
        if key not in cache:
            args = [helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE]
            args += values_args(env)
            for s in sets:
                args += ["--set", s]
            out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
            cache[key] = Manifest([d for d in yaml.safe_load_all(out) if d])
        return cache[key]

    return _render


@pytest.fixture(scope="session")
def render_fails(helm):
    """render_fails(env, *set_args) -> helm's error output; fails the test if helm renders."""

    def _render_fails(env: str = "default", *sets: str) -> str:
        args = [helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE]
        args += values_args(env)
        for s in sets:
            args += ["--set", s]
        result = subprocess.run(args, capture_output=True, text=True)
        assert result.returncode != 0, f"helm rendered {sets} but should have refused"
        return result.stderr

    return _render_fails


@pytest.fixture(params=["dev", "prod"])
def env(request) -> str:
    return request.param


@pytest.fixture
def manifest(render, env) -> Manifest:
    return render(env)


def values(env: str = "default") -> dict:
    """values.yaml merged with the environment's file, as helm merges them (maps deep)."""

    def merge(base: dict, over: dict) -> dict:
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        return out

    merged = yaml.safe_load((CHART / "values.yaml").read_text())
    for f in ENVIRONMENTS[env]:
        merged = merge(merged, yaml.safe_load(f.read_text()) or {})
    return merged


def container(deployment: dict) -> dict:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, "one container per role"
    return containers[0]


def env_of(c: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in c.get("env", [])}
