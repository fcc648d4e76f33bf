"""The deploy workflow's `helm upgrade --install` step (.github/workflows/deploy-environment.yml).

The step's script is read from the workflow with PyYAML and run with bash as the runner would,
its `${{ inputs.* }}` resolved and a stand-in `helm` on PATH that records its arguments (and
answers `helm list` from the test's idea of the cluster). The recorded `helm upgrade` arguments
are then rendered by the real helm with `helm template`, so what is checked is what the chart does
with the flags the workflow builds.

`--reset-then-reuse-values` cannot run without a cluster. Helm (pkg/action/upgrade.go) merges the
new -f/--set values over the last release's user-supplied values (chartutil.CoalesceTables(new,
old)); the tests stand for that by passing the previous values as the first --values file, below
everything the step passes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.deploy.conftest import CHART, ROOT, Manifest, container, values
from tests.deploy.test_chart_workloads import ROLE_NAMES, deployments_by_role
from tests.support.tools import require_tool

pytestmark = pytest.mark.helm

WORKFLOWS = ROOT / ".github" / "workflows"
DEPLOY_ENVIRONMENT = WORKFLOWS / "deploy-environment.yml"
CI_CD = WORKFLOWS / "ci-cd.yml"
OUTPUTS = Path(__file__).parent / "fixtures" / "deployment-outputs.json"
INPUT = re.compile(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}")
# Flags of `helm upgrade --install` that `helm template` does not take.
UPGRADE_ONLY = {"--install", "--create-namespace", "--wait", "--reset-then-reuse-values"}
UPGRADE_ONLY_WITH_VALUE = {"--timeout"}

FAKE_HELM = """#!{python}
import json, os, re, sys

with open(os.environ["FAKE_HELM_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1] == "list":
    if os.environ.get("FAKE_HELM_UNREACHABLE"):
        sys.exit("Error: Kubernetes cluster unreachable")
    pattern = sys.argv[sys.argv.index("--filter") + 1]
    for release in json.loads(os.environ["FAKE_HELM_RELEASES"]):
        if re.search(pattern, release):
            print(release)
"""


def acr() -> str:
    return json.loads(OUTPUTS.read_text())["acrLoginServer"]["value"]


def image(tag: str) -> str:
    return f"{acr()}/{values()['image']['repository']}:{tag}"


def deploy_job() -> dict:
    return yaml.safe_load(DEPLOY_ENVIRONMENT.read_text())["jobs"]["deploy"]


def helm_step() -> dict:
    steps = [s for s in deploy_job()["steps"] if "helm upgrade" in s.get("run", "")]
    assert len(steps) == 1, "one step runs helm upgrade"
    return steps[0]


@dataclass
class StepRun:
    returncode: int
    stderr: str
    calls: list[list[str]]
    workdir: Path

    def upgrade(self) -> list[str]:
        upgrades = [c for c in self.calls if c[0] == "upgrade"]
        assert len(upgrades) == 1, self.stderr
        return upgrades[0]

    def render(self, helm: str, previous: dict | None = None) -> Manifest:
        """`helm template` with the upgrade's arguments; `previous`: the last release's values."""
        args = self.upgrade()
        assert args[:2] == ["upgrade", "--install"], args
        release, chart, *flags = args[2:]
        kept = []
        skip_value = False
        for flag in flags:
            if skip_value:
                skip_value = False
            elif flag in UPGRADE_ONLY_WITH_VALUE:
                skip_value = True
            elif flag not in UPGRADE_ONLY:
                kept.append(flag)
        reused = []
        if previous is not None:
            assert "--reset-then-reuse-values" in args, "the last release's values are reused"
            path = self.workdir / "previous-values.yaml"
            path.write_text(yaml.safe_dump(previous))
            reused = ["--values", str(path)]
        out = subprocess.run(
            [helm, "template", release, chart, *reused, *kept],
            cwd=self.workdir,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return Manifest([d for d in yaml.safe_load_all(out) if d])


@pytest.fixture
def run_step(tmp_path):
    """run_step(environment, roles, tag, releases=(), unreachable=False) -> StepRun."""
    jq = require_tool("jq", hint="the deploy step parses its roles with jq")
    step, job = helm_step(), deploy_job()
    assert "${{" not in step["run"], "the script reads its inputs from env, never inline"
    workdir = tmp_path / "checkout"
    workdir.mkdir()
    (workdir / "deploy").symlink_to(ROOT / "deploy")
    (workdir / "outputs.json").write_text(OUTPUTS.read_text())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "helm"
    fake.write_text(FAKE_HELM.format(python=sys.executable))
    python3 = bin_dir / "python3"
    python3.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    for tool in (fake, python3):
        tool.chmod(0o755)
    (bin_dir / "jq").symlink_to(jq)
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    log = tmp_path / "helm-calls.jsonl"

    def _run(environment, roles, tag, releases=(), unreachable=False) -> StepRun:
        inputs = {"environment": environment, "roles": json.dumps(roles), "image-tag": tag}

        def resolve(value) -> str:
            resolved = INPUT.sub(lambda m: inputs[m[1]], str(value))
            assert "${{" not in resolved, f"an expression the test does not resolve: {value}"
            return resolved

        env = {k: resolve(v) for k, v in {**job["env"], **step["env"]}.items()}
        env |= {
            "PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin",
            "HOME": str(tmp_path),
            "FAKE_HELM_LOG": str(log),
            "FAKE_HELM_RELEASES": json.dumps(list(releases)),
        }
        if unreachable:
            env["FAKE_HELM_UNREACHABLE"] = "1"
        log.write_text("")
        # A `run` step without `shell:` runs as `bash -e {0}` on Linux runners.
        result = subprocess.run(
            ["bash", "-e", str(script)], cwd=workdir, env=env, capture_output=True, text=True
        )
        calls = [json.loads(line) for line in log.read_text().splitlines()]
        return StepRun(result.returncode, result.stderr, calls, workdir)

    return _run


def release_name() -> str:
    return deploy_job()["env"]["RELEASE"]


def images_by_role(manifest: Manifest) -> dict[str, str]:
    return {role: container(d)["image"] for role, d in deployments_by_role(manifest).items()}


def migration_images(manifest: Manifest) -> set[str]:
    job = next(j for j in manifest.of("Job") if j["metadata"]["name"].endswith("-migrate"))
    pod = job["spec"]["template"]["spec"]
    return {c["image"] for c in pod["initContainers"] + pod["containers"]}


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_the_step_deploys_with_the_environment_values_file(helm, run_step, environment):
    run = run_step(environment, ["delivery"], "abc123def456")
    assert run.returncode == 0, run.stderr
    args = run.upgrade()
    env_file = f"deploy/helm/fabrikam/values-{environment}.yaml"
    assert ["--values", env_file] in [args[i : i + 2] for i in range(len(args))]
    manifest = run.render(helm)
    expected = values(environment)
    (ingress,) = manifest.of("Ingress")
    assert [r["host"] for r in ingress["spec"]["rules"]] == [expected["ingress"]["host"]]
    assert expected["ingress"]["host"] != values()["ingress"]["host"], "the file changes the host"
    deployments = deployments_by_role(manifest)
    admin = deployments["admin"]["spec"]
    assert admin["replicas"] == expected["roles"]["admin"]["replicas"]


def test_an_environment_without_a_values_file_fails_before_helm_runs(run_step):
    assert not (CHART / "values-staging.yaml").exists()
    run = run_step("staging", ["delivery"], "abc123def456", releases=[release_name()])
    assert run.returncode != 0
    assert "values-staging.yaml does not exist" in run.stderr
    assert not [c for c in run.calls if c[0] == "upgrade"]


def test_the_rolled_roles_move_to_the_new_tag_and_the_others_keep_theirs(helm, run_step):
    run = run_step("prod", ["delivery", "workflow"], "new", releases=[release_name()])
    assert run.returncode == 0, run.stderr
    assert not [a for a in run.upgrade() if a.startswith("image.tag=")], "no global tag change"
    previous = {
        "image": {"tag": "old"},
        "migration": {"image": {"tag": "old"}},
        "roles": {"ingestion": {"image": {"tag": "ing1"}}},
    }
    manifest = run.render(helm, previous)
    images = images_by_role(manifest)
    assert images.pop("delivery") == image("new")
    assert images.pop("workflow") == image("new")
    assert images.pop("ingestion") == image("ing1"), "kept from the last release"
    assert set(images) == ROLE_NAMES - {"delivery", "workflow", "ingestion"}
    assert set(images.values()) == {image("old")}
    assert migration_images(manifest) == {image("new")}, "the newest code migrates"


def test_the_first_install_starts_every_role_on_the_new_tag(helm, run_step):
    run = run_step("dev", ["delivery"], "new", releases=["fabrikam-other"])
    assert run.returncode == 0, run.stderr
    assert "--reset-then-reuse-values" not in run.upgrade()
    manifest = run.render(helm)
    assert set(images_by_role(manifest).values()) == {image("new")}
    assert migration_images(manifest) == {image("new")}


def test_without_a_new_tag_every_version_stays_as_it_was(helm, run_step):
    """An infrastructure-only run (nothing built): config changes roll, images do not."""
    run = run_step("prod", [], "", releases=[release_name()])
    assert run.returncode == 0, run.stderr
    assert not [a for a in run.upgrade() if ".tag=" in a]
    previous = {
        "image": {"tag": "old"},
        "migration": {"image": {"tag": "new"}},
        "roles": {"delivery": {"image": {"tag": "new"}}},
    }
    images = images_by_role(run.render(helm, previous))
    assert images.pop("delivery") == image("new")
    assert set(images.values()) == {image("old")}


def test_an_unreachable_cluster_fails_the_step_instead_of_installing_afresh(run_step):
    run = run_step("prod", ["delivery"], "new", releases=[release_name()], unreachable=True)
    assert run.returncode != 0
    assert not [c for c in run.calls if c[0] == "upgrade"]


def test_every_role_the_pipeline_rolls_is_a_role_of_the_chart():
    """The workflow sets roles.<name>.image.tag for these names; the chart must read each."""
    ci = yaml.safe_load(CI_CD.read_text())
    on = ci.get("on", ci.get(True))  # YAML 1.1 reads the key `on` as true
    options = set(on["workflow_dispatch"]["inputs"]["role"]["options"]) - {"all"}
    assert options == ROLE_NAMES
    changes = ci["jobs"]["changes"]["steps"]
    roles_step = next(s for s in changes if s.get("id") == "roles")
    all_roles = re.search(r"all='(\[.*?\])'", roles_step["run"])
    assert all_roles, "the roles step names every role"
    assert set(json.loads(all_roles[1])) == ROLE_NAMES
    paths = next(s for s in changes if s.get("id") == "filter")["with"]["filters"]
    assert set(yaml.safe_load(paths)) - {"shared", "infrastructure"} == ROLE_NAMES


def test_the_pipeline_pushes_the_repository_the_chart_pulls():
    repository = values()["image"]["repository"]
    scripts = [
        step.get("run", "")
        for workflow in (CI_CD, DEPLOY_ENVIRONMENT)
        for job in yaml.safe_load(workflow.read_text())["jobs"].values()
        for step in job.get("steps", [])
    ]
    built = [m for s in scripts for m in re.findall(r'az acr build .*--image "([^":]+):', s)]
    assert built == [repository]
    # The build's --image, and the promotion's --source and --image.
    named = [m for s in scripts for m in re.findall(r'--(?:source "\$SOURCE/|image ")([^":]+):', s)]
    assert len(named) == 3
    assert set(named) == {repository}


def test_the_readmes_build_the_repository_the_chart_pulls():
    """A reader following any README pushes the image the chart's pods pull."""
    repository = values()["image"]["repository"]
    readmes = [ROOT / "README.md", *sorted((ROOT / "deploy").rglob("README.md"))]
    built = {
        readme.relative_to(ROOT).as_posix(): re.findall(
            r'az acr build .*--image "?([^":\s]+):', text
        )
        for readme in readmes
        for text in [readme.read_text()]
    }
    assert built["deploy/bicep/README.md"], "the Bicep README builds the image"
    for readme, names in built.items():
        assert set(names) <= {repository}, f"{readme} builds {names}, the chart pulls {repository}"


def test_the_workflow_deploys_with_the_helm_the_tests_render_with():
    pinned = re.search(
        r'HELM_VERSION="\$\{HELM_VERSION:-(v[0-9.]+)\}"',
        (ROOT / ".ci" / "install-helm.sh").read_text(),
    )
    assert pinned, ".ci/install-helm.sh pins a helm version"
    setups = [s for s in deploy_job()["steps"] if s.get("uses", "").startswith("azure/setup-helm@")]
    assert [s.get("with", {}).get("version") for s in setups] == [pinned[1]]
