"""The admin login lockout under concurrent guesses (issue 16): the check and the count are one
atomic step, so however many wrong passwords arrive at once, at most ADMIN_LOGIN_MAX_FAILURES of
them are checked against the password."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_login_failed
from django.db import connections
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db(transaction=True)  # the threads use their own connections

GUESSES = 20
LIMIT = 5


@pytest.fixture
def checked_passwords():
    """How many login attempts reached the password check (Django signals each failure)."""
    checked: list[str] = []
    lock = threading.Lock()

    def record(sender, credentials, request=None, **kwargs) -> None:
        with lock:
            checked.append(credentials.get("username", ""))

    user_login_failed.connect(record, weak=False, dispatch_uid="lockout-race")
    yield checked
    user_login_failed.disconnect(dispatch_uid="lockout-race")


@override_settings(ADMIN_LOGIN_MAX_FAILURES=LIMIT, ADMIN_LOGIN_LOCKOUT_SECONDS=600)
def test_concurrent_wrong_passwords_check_at_most_the_limit(checked_passwords, redis_store):
    User.objects.create_superuser("operator", "ops@example.com", "correct horse battery")
    start = threading.Barrier(GUESSES)

    def guess(n: int) -> int:
        client = Client(REMOTE_ADDR=f"198.51.100.{n}")  # from many IPs: the username counter
        start.wait()
        try:
            response = client.post(
                "/admin/login/", {"username": "operator", "password": f"guess {n}", "next": "/"}
            )
            return response.status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(GUESSES) as pool:
        statuses = sorted(pool.map(guess, range(GUESSES)))

    assert len(checked_passwords) == LIMIT
    assert statuses == [200] * LIMIT + [429] * (GUESSES - LIMIT)
