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
