"""Finding the external tools a test needs.

Locally a missing tool skips the test with the reason; under CI (`CI=true`) it fails the run, so a
CI machine that lost a tool cannot pass by skipping.
"""

from __future__ import annotations

import os
import shutil

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(reason: str) -> None:
    """Skip locally, fail in CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true, so this is a failure rather than a skip)", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str, env_var: str | None = None, hint: str = "") -> str:
    """Path of executable `name` (or of `$env_var` if set); skip/fail when absent."""
    candidate = os.environ.get(env_var, "") if env_var else ""
    path = candidate if candidate and os.access(candidate, os.X_OK) else shutil.which(name)
    if not path:
        missing(f"{name} is not installed{': ' + hint if hint else ''}")
    return path  # type: ignore[return-value]
