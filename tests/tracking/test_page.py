"""GET /track/{deliveryId}: the customer's page, rendered on the server from public data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from tests.deliveries.factories import FlightUpdateFactory, minutes_from_now

pytestmark = [pytest.mark.redis]


def page_data(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="tracking-data" type="application/json">')
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    return json.loads(body)


def test_the_page_shows_the_stage_etas_map_and_history(client, api, create):
    delivery_id, _body = create()
    update = FlightUpdateFactory(stage="HeadedToDropoff", timestamp=minutes_from_now(1))
    api.post(f"/api/deliveries/{delivery_id}/tracking", update, format="json")

    response = client.get(f"/track/{delivery_id}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'role="status"' in html
    assert "Your package is on its way" in html
    assert re.search(r'<li data-step="dropoff" class="current" aria-current="step">', html)
    assert re.search(r'<li data-step="pickup" class="done">', html)
    latitude = f"{update['location']['latitude']:.5f}"
    assert f"The drone was last at {latitude}" in html
    assert 'id="map"' in html
    assert 'role="img"' in html
    data = page_data(response)
    assert data["status"]["stage"] == "HeadedToDropoff"
    assert [e["stage"] for e in data["events"]] == ["Created", "HeadedToDropoff"]
    assert data["urls"]["stream"] == f"/api/deliveries/{delivery_id}/stream"


def test_the_page_exposes_no_owner_data(client, create):
    delivery_id, body = create()

    html = client.get(f"/track/{delivery_id}").content.decode()

    assert body["owner"]["userId"] not in html
    assert body["owner"]["accountId"] not in html
    assert "owner" not in page_data(client.get(f"/track/{delivery_id}"))["delivery"]


@pytest.mark.parametrize("delivery_id", ["no-such-delivery", "bad%20id", "x" * 129])
def test_an_unknown_delivery_is_a_friendly_404_page(client, redis_store, delivery_id):
    response = client.get(f"/track/{delivery_id}")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "We can't find this delivery" in html
    assert "Traceback" not in html


def test_the_page_and_its_script_and_styles_are_self_contained(client, create):
    delivery_id, _ = create()
    html = client.get(f"/track/{delivery_id}").content.decode()

    assert "/static/deliveries/track.js" in html
    assert "/static/deliveries/track.css" in html
    for name in ("deliveries/track.js", "deliveries/track.css"):
        source = Path(finders.find(name)).read_text()
        assert "http://" not in source.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in source
    assert "https://" not in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
