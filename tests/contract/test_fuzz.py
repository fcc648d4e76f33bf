"""The OpenAPI contract is true: schemathesis, every check (`--checks all`: status codes, content
types, response schemas and headers, schema-valid input accepted and schema-invalid input refused,
auth, stateful links), finds nothing over each role's own schema, as a business, an admin and the
internal services.

Against real processes (`manage.py serve --role X`, gunicorn), not the WSGI app in this process:
the stateful phase follows the API's links across many requests, which needs the stores to keep
what earlier requests wrote (this process's tests roll the database back), and gunicorn answers
some requests itself (an over-long request line is its 414), which the schema must say too."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
import requests

from fabrikam import roles
from fabrikam.apps.accounts import scopes
from tests.contract import fuzzing
from tests.support import auth
from tests.support.live import LiveSystem, free_port, manage, system_environment

pytestmark = [pytest.mark.fuzz, pytest.mark.e2e, pytest.mark.redis]

# Enough to reach every operation, every phase and the stateful links within a few minutes on
# two cores; FUZZ_MAX_EXAMPLES raises it for a longer hunt by hand.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "5"))
SEED = int(os.environ.get("FUZZ_SEED", "16"))
NO_API = {"admin"}  # the back office's pages only: its schema has no operations
FUZZED_ROLES = [role for role in roles.HTTP_ROLES if role not in NO_API]
CALLERS = ("business", "admin", "internal")


@dataclass
class FuzzedSystem:
    live: LiveSystem
    urls: dict[str, str]
    tokens: dict[str, str]

    def log(self, role: str) -> str:
        """The role's tracebacks, else the end of its log."""
        (process,) = [p for p in self.live.processes if p.name == role]
        output = process.output()
        tracebacks = output.split("Traceback (most recent call last):")[1:]
        if not tracebacks:
            return output[-6000:]
        return "\n".join("Traceback" + text[:4000] for text in tracebacks[:3])


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzedSystem]:
    """Every HTTP role in a process of its own, as in the Helm chart, throttles out of the way
    (429 is documented, but a run that only meets 429s tests nothing), and tracking streams ended
    after half a second with room for a few (the fuzzer reads a stream to its end; streams still
    open would hold every slot, and the next one would be the documented 503, which the
    not-a-server-error check counts as a failure)."""
    tmp_path = tmp_path_factory.mktemp("fuzz")
    with system_environment(tmp_path) as env:
        env |= {
            "THROTTLE_CLIENT_RATE": "100000/minute",
            "THROTTLE_IP_RATE": "100000/minute",
            "TRACKING_KEEPALIVE_SECONDS": "0.25",
            "TRACKING_STREAM_MAX_SECONDS": "0.5",
            "GUNICORN_THREADS": "8",
            "TRACKING_MAX_STREAMS": "6",
        }
        live = LiveSystem(env, tmp_path)
        ports = {role: free_port() for role in roles.HTTP_ROLES}
        urls = {role: f"http://127.0.0.1:{port}" for role, port in ports.items()}
        services = {
            "SERVICE_URL_PACKAGE": urls["package"],
            "SERVICE_URL_DRONESCHEDULER": urls["dronescheduler"],
            "SERVICE_URL_DELIVERY": urls["delivery"],
        }
        try:
            for role, port in ports.items():
                live.start(role, ["serve", "--role", role, "--port", str(port)], services)
            for url in urls.values():
                live.wait_ready(url, timeout=60)
            business = manage(["issue_token", "--owner", "fuzz-business"], env).strip()
            tokens = {
                "business": business,
                "admin": auth.token(scopes.ADMIN, client_id="fuzz-admin"),
                "internal": auth.token(scopes.INTERNAL, client_id="fuzz-internal"),
            }
            yield FuzzedSystem(live, urls, tokens)
        finally:
            live.stop()
            _drop_queue(env)


def _drop_queue(env: dict[str, str]) -> None:
    """The delivery requests the run queued (no workflow consumes them here)."""
    with contextlib.closing(redis.Redis.from_url(env["REDIS_URL"])) as connection:
        for key in connection.scan_iter(match=f"*{env['DELIVERY_REQUESTS_QUEUE']}*"):
            connection.delete(key)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("role", FUZZED_ROLES)
def test_the_schema_of_each_role_is_true_for_each_caller(system, role, caller, capsys):
    summary = fuzzing.run(
        f"{system.urls[role]}/api/schema/",
        system.tokens[caller],
        label=f"{role} as {caller}",
        max_examples=MAX_EXAMPLES,
        seed=SEED,
    )
    with capsys.disabled():
        print(f"\n{summary.line()}")
    assert summary.cases > 0
    assert not summary.failures, f"{summary.details()}\n--- {role} log ---\n{system.log(role)}"
    assert not summary.errors, summary.details()


def test_a_role_without_api_operations_serves_an_empty_schema(system):
    for role in NO_API:
        schema = requests.get(f"{system.urls[role]}/api/schema/?format=json", timeout=10).json()
        assert schema["paths"] == {}, role
