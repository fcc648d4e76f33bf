"""/api/docs/ (Swagger UI) loads everything from this origin, from the image, under the same CSP
as every other page (issue 16): it works offline and in locked-down networks."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

DOCS = "/api/docs/"


class References(HTMLParser):
    """Every URL a page makes the browser load (scripts, styles, icons, images)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href"):
            if found.get(name):
                self.urls.append(found[name] or "")
        if tag == "script" and not found.get("src"):
            self.inline_scripts += 1


def references(html: str) -> References:
    parser = References()
    parser.feed(html)
    return parser


def same_origin(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and url.startswith("/")


def test_the_docs_page_is_served_under_the_csp_of_every_page(client, settings):
    page = client.get(DOCS)
    other = client.get("/admin/login/")

    assert page.status_code == 200
    assert page["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert page["Content-Security-Policy"] == other["Content-Security-Policy"]


def test_the_docs_page_references_only_same_origin_assets_and_no_inline_script(client):
    found = references(client.get(DOCS).content.decode())

    assert found.inline_scripts == 0  # CSP allows no inline script
    assert len(found.urls) >= 4  # the stylesheet, the icon and the three scripts
    assert [url for url in found.urls if not same_origin(url)] == []
    assert not re.search(r"cdn|unpkg|jsdelivr|@latest", " ".join(found.urls))


def test_every_asset_of_the_docs_page_is_served(client):
    for url in references(client.get(DOCS).content.decode()).urls:
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert response.status_code == 200, url
        assert len(body) > 100, url
        if "script" in url or url.endswith(".js"):
            assert "javascript" in response["Content-Type"], url
