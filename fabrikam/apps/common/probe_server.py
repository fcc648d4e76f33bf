"""Health probes for the roles that are not HTTP servers (the workflow worker, beat): a small HTTP
listener on a background thread answering the same /healthz/* paths as every other role, and
/metrics for Prometheus (the samples of every process of the worker, see
fabrikam/observability/metrics.py)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fabrikam.observability import metrics

logger = logging.getLogger(__name__)

Check = Callable[[], dict[str, str]]  # failing part → reason; empty when healthy


class ProbeState:
    """What the process reports: started (it got going) and its readiness check."""

    def __init__(self, role: str, readiness: Check) -> None:
        self.role = role
        self.readiness = readiness
        self.started = threading.Event()
        self.failure = ""  # set once the process knows it must be restarted: every probe fails

    def fail(self, reason: str) -> None:
        self.failure = reason


def _handler(state: ProbeState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if state.failure and self.path.startswith("/healthz/"):
                body = {
                    "status": "failing",
                    "role": state.role,
                    "failing": {"process": state.failure},
                }
                self._answer(503, body)
            elif self.path == "/healthz/live":
                self._answer(200, {"status": "live", "role": state.role})
            elif self.path in ("/healthz/ready", "/healthz/startup"):
                failing = (
                    {"process": "not started yet"}
                    if not state.started.is_set()
                    else state.readiness()
                )
                status = "unavailable" if failing else "ready"
                body = {"status": status, "role": state.role}
                if failing:
                    body["failing"] = failing
                self._answer(503 if failing else 200, body)
            elif self.path == "/metrics":
                body, content_type = metrics.exposition(state.role)
                self._send(200, body, content_type)
            else:
                self._answer(404, {"title": "Not found", "status": 404})

        def _answer(self, status: int, body: dict) -> None:
            self._send(status, json.dumps(body).encode(), "application/json")

        def _send(self, status: int, payload: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


def serve_probes(host: str, port: int, state: ProbeState) -> ThreadingHTTPServer | None:
    try:
        server = ThreadingHTTPServer((host, port), _handler(state))
    except OSError as exc:
        logger.error("cannot serve health probes on %s:%s: %s", host, port, exc)
        return None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="probes", daemon=True).start()
    logger.info("health probes on http://%s:%s/healthz/", host, port)
    return server
