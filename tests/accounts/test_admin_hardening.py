"""The back office: businesses and clients in the admin, throttled logins, CSRF, secure cookies and
security headers."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from fabrikam.apps.accounts.models import ApiClient, Business

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


@pytest.fixture
def operator() -> User:
    return User.objects.create_superuser("operator", "ops@example.com", "correct horse battery")


def login(client: Client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


def test_an_admin_registers_a_business_and_its_client(admin_client):
    admin_client.post(
        "/admin/accounts/business/add/",
        {
            "owner_id": "acme",
            "name": "Acme Deliveries",
            "is_active": "on",
            "clients-TOTAL_FORMS": "1",
            "clients-INITIAL_FORMS": "0",
            "clients-0-name": "Dispatch app",
            "clients-0-client_id": "11111111-2222-3333-4444-555555555555",
            "clients-0-is_active": "on",
        },
    )
    client = ApiClient.objects.get(client_id="11111111-2222-3333-4444-555555555555")
    assert client.business == Business.objects.get(owner_id="acme")
    assert admin_client.get("/admin/accounts/apiclient/").status_code == 200


@override_settings(ADMIN_LOGIN_MAX_FAILURES=3, ADMIN_LOGIN_LOCKOUT_SECONDS=600)
def test_repeated_failed_logins_lock_the_ip_and_the_username(operator, redis_store):
    guesser = Client(REMOTE_ADDR="198.51.100.7")
    for guess in ("password", "123456", "letmein"):
        assert login(guesser, "operator", guess).status_code == 200  # the form, with its error
    locked = login(guesser, "operator", "correct horse battery")
    assert locked.status_code == 429
    assert 500 < int(locked["Retry-After"]) <= 600
    assert b"Too many failed logins" in locked.content
    assert "_auth_user_id" not in guesser.session

    # The same username from elsewhere is locked too; another user from elsewhere is not.
    assert login(Client(REMOTE_ADDR="203.0.113.5"), "operator", "x").status_code == 429
    User.objects.create_user("clerk", password="clerk password 1", is_staff=True)
    elsewhere = Client(REMOTE_ADDR="203.0.113.5")
    assert login(elsewhere, "clerk", "clerk password 1").status_code == 302


@override_settings(ADMIN_LOGIN_MAX_FAILURES=3)
def test_a_successful_login_clears_the_usernames_failures(operator, redis_store):
    client = Client(REMOTE_ADDR="198.51.100.8")
    for _ in range(2):
        login(client, "operator", "wrong")
    assert login(client, "operator", "correct horse battery").status_code == 302
    other = Client(REMOTE_ADDR="198.51.100.9")
    for _ in range(2):
        assert login(other, "operator", "wrong").status_code == 200


def test_the_login_form_needs_its_csrf_token(operator, redis_store):
    browser = Client(enforce_csrf_checks=True)
    assert login(browser, "operator", "correct horse battery").status_code == 403
    browser.get(LOGIN)
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        LOGIN,
        {
            "username": "operator",
            "password": "correct horse battery",
            "csrfmiddlewaretoken": token,
            "next": "/admin/",
        },
    )
    assert response.status_code == 302


@override_settings(SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True)
def test_cookies_are_https_only(operator, redis_store):
    client = Client()
    response = login(client, "operator", "correct horse battery")
    session = response.cookies["sessionid"]
    assert session["secure"]
    assert session["httponly"]
    assert Client().get(LOGIN).cookies["csrftoken"]["secure"]


@override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True)
def test_security_headers(client, redis_store):
    page = client.get(LOGIN, secure=True)
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert page["X-Frame-Options"] == "DENY"
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    assert "script-src" not in page["Content-Security-Policy"]  # default-src 'self' covers it
    # HSTS only over HTTPS: a browser ignores it on HTTP, and a proxy must not cache it there.
    assert "Strict-Transport-Security" not in client.get(LOGIN)
