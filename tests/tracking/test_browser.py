"""The tracking page in headless Chromium, following a real flight: `manage.py dev` (gunicorn,
workflow worker, flight scheduler) flies a seeded drone, and the page follows it over SSE."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.conftest import delivery_request
from tests.support import auth
from tests.support.live import ROOT, free_port, wait_until
from tests.support.tools import require_tool

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.redis]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Seeded drones are 1-5 km from the pickup, the drop-off 1.7 km beyond it: at 60 km/h and 15x
# real time the flight takes about 10-20 s, time for the page to see it move.
FLIGHT = {"FLIGHT_TIME_SCALE": "15", "FLIGHT_TICK_SECONDS": "0.3"}
# One stream per process (dev runs one gunicorn worker here): a second watcher is refused and polls.
CAPPED = {"TRACKING_MAX_STREAMS": "1", "TRACKING_POLL_SECONDS": "0.5"}
OUTPUT = ROOT / "test-output" / "tracking"


@pytest.fixture
def browser() -> Iterator[Browser]:
    chromium = require_tool("chromium", "CHROMIUM", "apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def screenshot(page: Page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, OUTPUT / name)
    return path


def seconds_left(text: str) -> int:
    """ "in 2 min 5 s" → 125."""
    minutes = re.search(r"(\d+) min", text)
    seconds = re.search(r"(\d+) s", text)
    return (int(minutes.group(1)) * 60 if minutes else 0) + (
        int(seconds.group(1)) if seconds else 0
    )


DRONE = """() => {
  const marker = document.getElementById("drone-marker");
  const eta = document.querySelector("#delivery-eta .relative");
  return {
    at: marker ? [marker.dataset.latitude, marker.dataset.longitude].join(",") : "",
    stage: document.getElementById("tracking").dataset.stage,
    eta: eta ? eta.textContent : "",
    mode: document.getElementById("connection").dataset.mode,
  };
}"""
MOVED = f"""(before) => {{
  const now = ({DRONE})();
  return now.stage === "Completed" || (now.at !== before && now.stage.startsWith("HeadedTo"));
}}"""


def test_the_page_follows_the_drone_to_delivered_and_a_refused_watcher_polls(
    live, browser, tmp_path
):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    live.start("dev", ["dev", "--port", str(port)], {**FLIGHT, **CAPPED})
    live.wait_ready(base)
    accepted = requests.post(
        f"{base}/api/deliveryrequests",
        json=delivery_request("pkg-track-1"),
        timeout=10,
        headers=auth.headers(),
    )
    assert accepted.status_code == 202, accepted.text
    delivery_id = accepted.json()["deliveryId"]
    wait_until(
        lambda: (
            requests.get(
                f"{base}/api/deliveries/public/{delivery_id}", timeout=5, headers=auth.headers()
            ).ok
        ),
        30,
        "the workflow to schedule the delivery",
    )

    page = browser.new_page(viewport={"width": 420, "height": 900})
    page.goto(f"{base}/track/{delivery_id}")
    page.wait_for_function(f"() => ({DRONE})().mode === 'live'", timeout=10_000)
    second = browser.new_page(viewport={"width": 420, "height": 900})
    second.goto(f"{base}/track/{delivery_id}")
    second.wait_for_function(f"() => ({DRONE})().mode === 'polling'", timeout=10_000)
    seen = [page.evaluate(DRONE)]
    while seen[-1]["stage"] != "Completed":
        page.wait_for_function(MOVED, arg=seen[-1]["at"], timeout=20_000)
        seen.append(page.evaluate(DRONE))
        if len(seen) == 4:
            screenshot(page, tmp_path, "tracking-in-flight.png")

    flying = [s for s in seen if s["stage"].startswith("HeadedTo")]
    assert len({s["at"] for s in flying}) >= 3, seen  # the marker moved along the route
    assert {s["mode"] for s in flying} == {"live"}, seen  # over the stream, not polling
    to_dropoff = [seconds_left(s["eta"]) for s in flying if s["eta"]]
    assert len(set(to_dropoff)) >= 2, seen  # the ETA counted down with the flight
    assert to_dropoff == sorted(to_dropoff, reverse=True), seen

    assert page.locator("#stage").inner_text() == "Delivered"
    assert page.locator("#delivery-eta-label").inner_text() == "Delivered"
    assert page.locator("#connection").get_attribute("data-mode") == "ended"
    assert page.locator("#progress li.current").inner_text() == "Delivered"
    history = page.locator("#events li").all_inner_texts()
    assert "Delivered" in history[0]
    assert history[-1].endswith("Scheduled: a drone is assigned")
    screenshot(page, tmp_path, "tracking-delivered.png")
    # The watcher that was refused a stream followed by polling, and stopped at the end too.
    second.wait_for_function(f"() => ({DRONE})().mode === 'ended'", timeout=10_000)
    assert second.locator("#stage").inner_text() == "Delivered"
    assert second.locator("#events li").all_inner_texts() == history
    page.set_viewport_size({"width": 1200, "height": 800})  # two columns on a wide screen
    screenshot(page, tmp_path, "tracking-delivered-wide.png")


def test_an_unknown_delivery_shows_a_friendly_page(live, browser, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    live.start("delivery", ["serve", "--role", "delivery", "--port", str(port)])
    live.wait_ready(base)

    page = browser.new_page(viewport={"width": 420, "height": 700})
    response = page.goto(f"{base}/track/no-such-delivery")

    assert response is not None
    assert response.status == 404
    assert page.locator("h1").inner_text() == "We can't find this delivery"
    screenshot(page, tmp_path, "tracking-not-found.png")
