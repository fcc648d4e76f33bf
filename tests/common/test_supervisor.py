"""`make run`'s supervisor (fabrikam/runtime/supervisor.py) restarts a worker that exits (the
workflow worker's stall watchdog exits it), with a back-off, and Ctrl-C still stops everything."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil

from tests.support.live import wait_until

SCRIPT = textwrap.dedent(
    """
    import sys
    from fabrikam.runtime.supervisor import Supervisor

    runs, pids = sys.argv[1], sys.argv[2]
    supervisor = Supervisor(stop_timeout=5)
    supervisor.start("store", [sys.executable, "-c", "import time; time.sleep(600)"], {})
    exits = f"open({runs!r}, 'a').write('run\\\\n'); raise SystemExit(75)"
    supervisor.start("worker", [sys.executable, "-c", exits], {}, restart=True)
    open(pids, "w").write(str(supervisor.children["store"].pid))
    sys.exit(supervisor.wait(lambda name, code: print(f"{name} ended {code}", file=sys.stderr)))
    """
)


def test_an_exited_worker_is_restarted_and_ctrl_c_stops_everything(tmp_path: Path):
    runs, pids = tmp_path / "runs", tmp_path / "pids"
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(runs), str(pids)],
        cwd=Path(__file__).resolve().parents[2],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # exits at once, back-off 1 s then 2 s: a third run within the deadline
        wait_until(
            lambda: runs.exists() and runs.read_text().count("run") >= 3, 30, "three worker runs"
        )
        store = psutil.Process(int(pids.read_text()))
        supervisor.send_signal(signal.SIGINT)
        code = supervisor.wait(30)
        _, stderr = supervisor.communicate()
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
    assert code == 0
    assert "worker exited with code 75; restarting it in 1 s" in stderr
    assert "worker exited with code 75; restarting it in 2 s" in stderr
    assert "worker restarted (pid " in stderr
    assert "ended" not in stderr  # the worker's exits did not stop the rest
    assert not store.is_running() or store.status() == psutil.STATUS_ZOMBIE
