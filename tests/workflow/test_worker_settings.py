"""The workflow worker's pool is chosen by WORKFLOW_POOL, checked when settings load."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.live import ROOT


def settings_in_child(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if k != "WORKFLOW_POOL"}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from fabrikam.celery import app; "
            "print(app.conf.worker_pool)",
        ],
        cwd=ROOT,
        env={
            **inherited,
            "DJANGO_SETTINGS_MODULE": "fabrikam.settings.production",
            "DEBUG": "true",
            "FABRIKAM_DATA_DIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("pool", ["prefork", "threads", "solo"])
def test_the_worker_uses_the_pool_workflow_pool_names(tmp_path, pool):
    result = settings_in_child(tmp_path, WORKFLOW_POOL=pool)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == pool


def test_an_unknown_pool_stops_the_process_and_names_the_variable(tmp_path):
    result = settings_in_child(tmp_path, WORKFLOW_POOL="gevent")
    assert result.returncode != 0
    assert "ImproperlyConfigured: WORKFLOW_POOL='gevent'" in result.stderr


@pytest.mark.parametrize(("role", "pool"), [("all", "solo"), ("workflow", "prefork")])
def test_make_run_defaults_to_solo_workers_and_a_pod_to_prefork(tmp_path, role, pool):
    result = settings_in_child(tmp_path, FABRIKAM_ROLE=role)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == pool
