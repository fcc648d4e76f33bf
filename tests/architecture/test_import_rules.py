"""The import rules of CONTRIBUTING.md ("Direction of dependencies"), as import-linter contracts in
pyproject.toml: the bounded contexts never import each other, the shared kernels import no context,
and the platform packages, the contract and the role map import no app."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Check the package under `root` against `root`'s pyproject.toml (no cache left behind)."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_code_keeps_every_import_contract() -> None:
    result = lint_imports(REPO)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "imports", "broken"),
    [
        (
            "fabrikam/apps/packages/leak.py",
            "from fabrikam.apps.deliveries import services",
            "fabrikam.apps.packages is not allowed to import fabrikam.apps.deliveries",
        ),
        (
            "fabrikam/apps/common/leak.py",
            "from fabrikam.apps.workflow import tasks",
            "fabrikam.apps.common is not allowed to import fabrikam.apps.workflow",
        ),
        (
            "fabrikam/observability/leak.py",
            "from fabrikam.apps.packages import selectors",
            "fabrikam.observability is not allowed to import fabrikam.apps",
        ),
        (
            "fabrikam/contract/leak.py",
            "from fabrikam.apps.ingestion import messages",
            "fabrikam.contract is not allowed to import fabrikam.apps",
        ),
    ],
    ids=["context-imports-context", "kernel-imports-context", "platform-imports-app", "contract"],
)
def test_an_import_against_the_rules_fails_the_check(
    tmp_path: Path, module: str, imports: str, broken: str
) -> None:
    shutil.copytree(
        REPO / "fabrikam", tmp_path / "fabrikam", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    (tmp_path / module).write_text(f"{imports}\n")

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert broken in result.stdout
    assert "1 broken" in result.stdout
