"""A real HTTP proxy in front of one of our services that can misbehave on command: answer errors,
hang, or pass through. Faults happen on the network path, as they would in production, while the
service behind stays real."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

import requests

from tests.support.http_server import QuietHandler


@dataclass
class Fault:
    method: str
    path_prefix: str
    status: int = 503
    times: int | None = None  # None: every time
    hold: threading.Event | None = None  # wait for this before forwarding
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and path.startswith(self.path_prefix)


@dataclass
class FaultyProxy:
    target: str
    faults: list[Fault] = field(default_factory=list)
    seen: list[tuple[str, str, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        proxy = self

        class Handler(QuietHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, payload, headers = proxy.forward(
                    self.command, self.path, body, self.headers
                )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def _active_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path) and (
                    fault.times is None or fault.hits < fault.times
                ):
                    fault.hits += 1
                    return fault
        return None

    def forward(
        self, method: str, path: str, body: bytes, headers: Any
    ) -> tuple[int, bytes, dict[str, str]]:
        fault = self._active_fault(method, path)
        if fault is not None and fault.hold is not None:
            fault.hold.wait(60)
        elif fault is not None:
            self.seen.append((method, path, fault.status))
            problem = b'{"title": "injected fault", "status": %d}' % fault.status
            return fault.status, problem, {"Content-Type": "application/problem+json"}
        response = requests.request(
            method,
            self.target + path,
            data=body,
            headers={
                "Content-Type": headers.get("Content-Type", "application/json"),
                # the caller's service token, which the service behind checks
                "Authorization": headers.get("Authorization", ""),
            },
            timeout=30,
        )
        self.seen.append((method, path, response.status_code))
        content_type = response.headers.get("Content-Type", "application/json")
        return response.status_code, response.content, {"Content-Type": content_type}

    def held(self) -> int:
        """Requests waiting at a `hold` fault right now."""
        with self._lock:
            return sum(
                1 for f in self.faults if f.hold is not None and f.hits and not f.hold.is_set()
            )

    def calls(self, method: str, path_prefix: str) -> list[int]:
        return [status for m, p, status in self.seen if m == method and p.startswith(path_prefix)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
