"""Swagger UI in headless Chromium: it renders the API's operations with nothing but this origin,
and the browser reports no Content Security Policy violation (issue 16)."""

from __future__ import annotations

import pytest

from tests.tracking.test_browser import browser  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser]


def test_swagger_ui_renders_from_this_origin_under_the_csp(live_server, browser):  # noqa: F811
    page = browser.new_page()
    violations: list[str] = []
    elsewhere: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((live_server.url, "data:"))
            else elsewhere.append(request.url)
        ),
    )

    response = page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock", timeout=20_000)  # the operations, from /api/schema/

    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert page.locator(".opblock").count() >= 10
    assert violations == []
    assert elsewhere == []
