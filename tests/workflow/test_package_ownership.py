"""Issue 16's takeover, end to end: a second business requests a delivery naming the first one's
package id; after the saga has processed it (and compensated it), the first business's package is
exactly as it was."""

from __future__ import annotations

import pytest
import requests

from tests.support.faulty_proxy import Fault
from tests.support.live import manage, wait_until

pytestmark = [pytest.mark.e2e]

ACME_PACKAGE = {"packageId": "pkg-shared", "size": "Small", "weight": 1.5, "tag": "books"}
GLOBEX_PACKAGE = {"packageId": "pkg-shared", "size": "Large", "weight": 9.0, "tag": "anvil"}


def business_headers(saga, owner_id: str) -> dict[str, str]:
    token = manage(["issue_token", "--owner", owner_id], saga.env).strip()
    return {"Authorization": f"Bearer {token}"}


def test_a_business_reusing_another_ones_package_id_leaves_that_package_alone(saga):
    saga.start_worker()
    acme = business_headers(saga, "acme")
    globex = business_headers(saga, "globex")
    package_url = f"{saga.urls['package']}/api/packages/pkg-shared"

    mine = saga.request_delivery("pkg-shared", ownerId="acme", packageInfo=ACME_PACKAGE)
    wait_until(lambda: saga.delivery(mine), 30, f"acme's delivery {mine}")
    before = requests.get(package_url, headers=acme, timeout=10)
    assert before.status_code == 200
    assert before.json() == {
        "id": "pkg-shared",
        "size": "Small",
        "weight": 1.5,
        "tag": "books",
        "ownerId": "acme",
        "deliveryState": "InDelivery",
    }

    # Globex's request with acme's package id goes through the saga, which fails at the delivery
    # step and compensates: both its package writes (PUT, then PATCH) must land on globex's.
    saga.proxies["delivery"].add(Fault("PUT", "/api/deliveries/", status=422, times=1))
    theirs = saga.request_delivery("pkg-shared", ownerId="globex", packageInfo=GLOBEX_PACKAGE)
    wait_until(
        lambda: saga.proxies["package"].calls("PATCH", "/api/packages/pkg-shared"),
        30,
        f"the compensation of globex's delivery {theirs}",
    )

    after = requests.get(package_url, headers=acme, timeout=10)
    assert after.status_code == 200
    assert after.json() == before.json()
    assert saga.proxies["package"].calls("PUT", "/api/packages/pkg-shared") == [201, 201]
    globex_package = requests.get(package_url, headers=globex, timeout=10).json()
    assert (globex_package["ownerId"], globex_package["size"], globex_package["tag"]) == (
        "globex",
        "Large",
        "anvil",
    )
    assert globex_package["deliveryState"] == "NotInDelivery"
