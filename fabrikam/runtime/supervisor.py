"""A small process supervisor for `manage.py dev`: start children, stop them all together, and
restart the ones started with `restart=True` (the workflow worker, whose stall watchdog exits it to
be restarted) when they exit, after a back-off.

Children get SIGTERM when this process dies, even by SIGKILL (Linux PR_SET_PDEATHSIG), so Ctrl-C
or a killed terminal leaves no orphans behind.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

PR_SET_PDEATHSIG = 1
RESTART_BACKOFF_FIRST = 1.0  # seconds before a restart; doubles on each quick exit
RESTART_BACKOFF_MAX = 30.0
RESTART_HEALTHY_AFTER = 60.0  # a child that ran this long starts again from the first back-off


def die_with_parent() -> None:
    """preexec_fn for children: SIGTERM when we die, and a process group of their own."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    os.setpgrp()  # our own group: the terminal's Ctrl-C reaches the supervisor, which stops us


def _spawn(argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(argv, env=env, preexec_fn=die_with_parent)


@dataclass
class _Restart:
    argv: list[str]
    env: dict[str, str]
    started: float = 0.0
    backoff: float = RESTART_BACKOFF_FIRST
    due: float | None = None  # when the exited child starts again


@dataclass
class Supervisor:
    children: dict[str, subprocess.Popen] = field(default_factory=dict)
    stop_timeout: float = 15.0
    restartable: dict[str, _Restart] = field(default_factory=dict)
    log: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr))

    def start(
        self, name: str, argv: list[str], env: dict[str, str], restart: bool = False
    ) -> subprocess.Popen:
        child = self.children[name] = _spawn(argv, env)
        if restart:
            self.restartable[name] = _Restart(argv, env, started=time.monotonic())
        return child

    def adopt(self, name: str, child: subprocess.Popen) -> None:
        self.children[name] = child

    def wait(self, on_exit: Callable[[str, int], None]) -> int:
        """Block until a signal or a child's exit, then stop everything. Returns the exit code."""
        stopping = {"signal": 0}

        def request_stop(signum: int, _frame: object) -> None:
            stopping["signal"] = signum

        previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not stopping["signal"]:
                for name, child in self.children.items():
                    code = child.poll()
                    if code is not None and name in self.restartable:
                        self._restart_later(name, code)
                    elif code is not None:
                        on_exit(name, code)
                        self.stop()
                        return code or 1
                self._restart_due()
                time.sleep(0.5)  # a supervisor's poll of its children
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stop()
        return 0

    def _restart_later(self, name: str, code: int) -> None:
        plan = self.restartable[name]
        if plan.due is not None:
            return
        now = time.monotonic()
        if now - plan.started >= RESTART_HEALTHY_AFTER:
            plan.backoff = RESTART_BACKOFF_FIRST
        plan.due = now + plan.backoff
        self.log(f"{name} exited with code {code}; restarting it in {plan.backoff:.0f} s")
        plan.backoff = min(plan.backoff * 2, RESTART_BACKOFF_MAX)

    def _restart_due(self) -> None:
        now = time.monotonic()
        for name, plan in self.restartable.items():
            if plan.due is not None and now >= plan.due:
                plan.due, plan.started = None, now
                self.children[name] = _spawn(plan.argv, plan.env)
                self.log(f"{name} restarted (pid {self.children[name].pid})")

    def stop(self) -> None:
        # Stop in reverse start order: HTTP and workers first, the store they use last.
        for child in reversed(self.children.values()):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
                self._reap(child)

    def _reap(self, child: subprocess.Popen) -> None:
        deadline = time.monotonic() + self.stop_timeout
        while child.poll() is None and time.monotonic() < deadline:
            try:
                child.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                continue
        if child.poll() is None:
            child.kill()
            child.wait()
