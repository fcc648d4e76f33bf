"""checkov on the rendered chart and the Dockerfile, hadolint on the Dockerfile, and the
Dockerfile properties the chart relies on (non-root UID, read-only root, entrypoint)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.deploy.conftest import CHART, NAMESPACE, RELEASE, ROOT, values_args
from tests.support.tools import require_tool

DOCKERFILE = ROOT / "Dockerfile"
CHECKOV_HINT = "run `bash .ci/install-lint-tools.sh` (checkov lives in its own venv)"


@pytest.fixture(scope="session")
def checkov() -> str:
    return require_tool("checkov", "CHECKOV_BIN", hint=CHECKOV_HINT)


@pytest.fixture(scope="session")
def hadolint() -> str:
    return require_tool("hadolint", "HADOLINT_BIN", hint=CHECKOV_HINT)


def run_checkov(checkov: str, path, framework: str) -> dict:
    # --skip-download: no call to the vendor's platform (there is no network in CI anyway).
    result = subprocess.run(
        [
            checkov,
            "--file",
            str(path),
            "--framework",
            framework,
            "--output",
            "json",
            "--compact",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
    )
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [
        (c["check_id"], c.get("resource"), c.get("check_name"))
        for r in reports
        for c in r.get("results", {}).get("failed_checks", [])
    ]
    assert not failed, failed
    assert result.returncode == 0, result.stderr[-2000:]
    skipped = {}
    for r in reports:
        for c in r.get("results", {}).get("skipped_checks", []):
            reason = (c["check_result"].get("suppress_comment") or "").strip()
            assert len(reason) > 20, (
                f"{c['check_id']} on {c['resource']} is skipped without a reason"
            )
            skipped.setdefault(c["check_id"], set()).add(reason)
    return {"passed": sum(r["summary"]["passed"] for r in reports), "skipped": skipped}


@pytest.mark.helm
@pytest.mark.parametrize("env_name", ["dev", "prod"])
def test_checkov_passes_on_the_rendered_chart(helm, checkov, tmp_path, env_name):
    args = [helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE, *values_args(env_name)]
    rendered = tmp_path / f"{env_name}.yaml"
    rendered.write_text(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
    report = run_checkov(checkov, rendered, "kubernetes")
    assert report["passed"] > 100, "checkov parsed the chart"
    # Only the digest pin is waived (the release tag is immutable); a new waiver is a decision.
    assert set(report["skipped"]) <= {"CKV_K8S_43"}


def test_checkov_skips_in_the_chart_carry_reasons():
    for template in (CHART / "templates").glob("*.yaml"):
        for match in re.finditer(r"checkov\.io/skip\d+:\s*(\S+)", template.read_text()):
            check, _, reason = match.group(1).partition("=")
            assert re.fullmatch(r"CKV2?_K8S_\d+", check), (template.name, match.group(0))
            assert reason, (template.name, match.group(0))


def test_checkov_passes_on_the_dockerfile(checkov):
    report = run_checkov(checkov, DOCKERFILE, "dockerfile")
    assert report["passed"] > 10
    assert set(report["skipped"]) <= {"CKV_DOCKER_2"}  # HEALTHCHECK: Kubernetes probes instead


def test_hadolint_passes_on_the_dockerfile(hadolint):
    result = subprocess.run(
        [hadolint, "--failure-threshold", "info", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_is_multi_stage_on_an_exactly_pinned_slim_python():
    froms = [args for word, args in instructions() if word == "FROM"]
    assert len(froms) >= 2
    for args in froms:
        assert re.fullmatch(
            r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})? AS \w+", args
        ), args


def test_dependencies_install_before_the_code_is_copied():
    steps = instructions()
    copy_reqs = next(i for i, (w, a) in enumerate(steps) if w == "COPY" and "requirements.txt" in a)
    pip = next(i for i, (w, a) in enumerate(steps) if w == "RUN" and "pip install" in a)
    copy_code = next(i for i, (w, a) in enumerate(steps) if w == "COPY" and a.split()[0] == ".")
    assert copy_reqs < pip < copy_code


def test_runtime_runs_as_the_chart_uid_with_the_serve_entrypoint():
    steps = instructions()
    last_stage = max(i for i, (w, _) in enumerate(steps) if w == "FROM")
    runtime = steps[last_stage:]
    users = [a for w, a in runtime if w == "USER"]
    assert users, "numeric non-root UID, as the chart's runAsUser"
    assert users[-1].split(":")[0] == "10001", "numeric non-root UID, as the chart's runAsUser"
    assert ("ENTRYPOINT", '["python", "manage.py", "serve"]') in runtime
    env = " ".join(a for w, a in runtime if w == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "TMPDIR=/tmp" in env
    collect = [a for w, a in runtime if w == "RUN" and "collectstatic" in a]
    assert collect
    assert "SECRET_KEY=build-only" in collect[0]
    assert "--noinput" in collect[0]
    assert not any(w == "ENV" and "SECRET_KEY" in a for w, a in runtime), (
        "no secret baked into the image"
    )


def test_dockerignore_keeps_the_build_context_small_and_clean():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", "tests", "deploy", ".env"} <= ignored
    assert any(p.startswith(".venv") for p in ignored)
    assert "requirements.txt" not in ignored
    assert "manage.py" not in ignored
