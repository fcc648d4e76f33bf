"""Hostile request bodies through the real server (gunicorn, DEBUG on as in `make run`): bodies over
MAX_REQUEST_BYTES on the internal writes, JSON nested 1,000 deep, and chunked bodies, which the
test client never sends (issue 16)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from tests.e2e.conftest import live, system_env  # noqa: F401 - fixtures
from tests.packages.factories import package_body
from tests.support import auth
from tests.support.live import free_port

pytestmark = [pytest.mark.e2e]

LIMIT = {"MAX_REQUEST_BYTES": "2000"}
TOO_BIG = json.dumps({"tag": "t" * 3000})
DEEP = "[" * 1000 + "]" * 1000


def serve(live, role: str) -> str:  # noqa: F811 - the fixture
    port = free_port()
    live.start(role, ["serve", "--role", role, "--port", str(port)], LIMIT)
    url = f"http://127.0.0.1:{port}"
    live.wait_ready(url)
    return url


def send(method: str, url: str, body: bytes | str | Iterator[bytes]) -> requests.Response:
    headers = {**auth.headers(), "Content-Type": "application/json"}
    return requests.request(method, url, data=body, headers=headers, timeout=10)


def assert_problem(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"] == "application/problem+json"
    return response.json()


def test_oversize_and_deeply_nested_bodies_to_internal_writes_are_problems(live):  # noqa: F811
    delivery = serve(live, "delivery")
    package = serve(live, "package")
    drones = serve(live, "dronescheduler")
    writes = [
        ("PUT", f"{delivery}/api/deliveries/d-1"),
        ("POST", f"{delivery}/api/deliveries/d-1/confirmations"),
        ("POST", f"{delivery}/api/deliveries/d-1/tracking"),
        ("PUT", f"{package}/api/packages/p-1"),
        ("PUT", f"{drones}/api/dronedeliveries/d-1"),
    ]
    for method, url in writes:
        too_big = assert_problem(send(method, url, TOO_BIG), 413)
        assert too_big["detail"] == "The request body exceeds 2000 bytes.", url
        deep = assert_problem(send(method, url, DEEP), 400)
        assert "nested more than 32 levels" in deep["detail"], url


def test_a_chunked_body_is_read_whole_and_over_the_limit_refused(live):  # noqa: F811
    package = serve(live, "package")
    body = json.dumps(package_body(tag="chunked")).encode()

    created = send("PUT", f"{package}/api/packages/p-chunked", iter([body[:10], body[10:]]))

    assert created.status_code == 201, created.text
    stored = requests.get(f"{package}/api/packages/p-chunked", headers=auth.headers(), timeout=10)
    assert stored.json()["tag"] == "chunked"
    chunks = iter([TOO_BIG[:1000].encode(), TOO_BIG[1000:].encode()])
    too_big = assert_problem(send("PUT", f"{package}/api/packages/p-big", chunks), 413)
    assert too_big["detail"] == "The request body exceeds 2000 bytes."
    missing = requests.get(f"{package}/api/packages/p-big", headers=auth.headers(), timeout=10)
    assert missing.status_code == 404


def test_a_path_beyond_ascii_is_a_404_problem_not_a_500(live):  # noqa: F811
    # Found by the fuzz suite: U+61649 in a path failed in the tracing middleware.
    package = serve(live, "package")
    for path in ("/api/packages/summary/nZ%C2%BF%F1%A1%99%89", "/api/packages/%C3%A9t%C3%A9"):
        response = requests.get(f"{package}{path}", headers=auth.headers(), timeout=10)
        assert assert_problem(response, 404)["status"] == 404, path
