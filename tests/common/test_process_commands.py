"""The command lines `serve` and `dev` run are ones Celery accepts, in every log mode."""

import os
import subprocess

import pytest

from fabrikam.runtime import processes
from tests.support.live import ROOT


@pytest.mark.parametrize("log_format", ["json", "plain"])
@pytest.mark.parametrize("command", [processes.celery_worker, processes.celery_beat])
def test_celery_accepts_the_worker_and_scheduler_command_lines(settings, command, log_format):
    settings.LOG_FORMAT = log_format
    argv = command()
    assert ("--quiet" in argv) == (log_format == "json")
    # --help last: Celery parses (and rejects unknown) options before it prints help and exits 0.
    result = subprocess.run(
        [*argv, "--help"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_a_solo_pool_runs_workflow_concurrency_one_slot_workers_with_their_own_names(settings):
    settings.CELERY_WORKER_POOL = "solo"
    settings.CELERY_WORKER_CONCURRENCY = 3
    workers = processes.celery_workers("workflow")
    assert list(workers) == ["workflow-1", "workflow-2", "workflow-3"]
    for index, argv in enumerate(workers.values(), start=1):
        assert argv[argv.index("--concurrency") + 1] == "1"  # the stall watchdog counts one slot
        assert argv[argv.index("--hostname") + 1] == f"workflow-{index}@%h"


def test_a_prefork_pool_runs_one_worker_with_workflow_concurrency_children(settings):
    settings.CELERY_WORKER_POOL = "prefork"
    settings.CELERY_WORKER_CONCURRENCY = 3
    workers = processes.celery_workers("workflow")
    assert list(workers) == ["workflow"]
    argv = workers["workflow"]
    assert argv[argv.index("--concurrency") + 1] == "3"
    assert "--hostname" not in argv
