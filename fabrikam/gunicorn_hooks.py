"""gunicorn server hooks (loaded with `--config python:fabrikam.gunicorn_hooks`)."""

from __future__ import annotations

from typing import Any


def post_fork(server: Any, worker: Any) -> None:
    """Per-worker initialisation that must not run in the master (telemetry goes here)."""
