"""Concurrent PUTs of one package (a redelivered saga message racing its first delivery): the
package is created once, every PUT succeeds, and the last one stands."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from fabrikam.apps.packages import services
from fabrikam.apps.packages.models import Package
from tests.packages.stores import PACKAGES_DATABASES

pytestmark = pytest.mark.django_db(transaction=True, databases=PACKAGES_DATABASES)

UPDATE_GAP = "updates are sent as pipelines (`u` is an array), which FerretDB refuses"


@pytest.mark.ferretdb_gap(UPDATE_GAP)
def test_concurrent_puts_of_a_new_package_create_it_once_and_replace_it_after():
    start = threading.Barrier(6)

    def put(weight: int) -> bool:
        try:
            start.wait(timeout=30)
            fields = {"size": "Small", "weight": float(weight), "tag": "race"}
            package, created = services.upsert_package("contoso", "pkg-race", fields)
            assert (package.owner_id, package.package_id, package.weight) == (
                "contoso",
                "pkg-race",
                float(weight),
            )
            return created
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=6) as pool:
        created = list(pool.map(put, range(1, 7)))

    assert created.count(True) == 1
    assert Package.objects.count() == 1
    assert Package.objects.get().weight in {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}


@pytest.mark.ferretdb_gap(UPDATE_GAP)
def test_a_replaced_package_keeps_its_created_at_and_its_delivery_state():
    first, created = services.upsert_package(
        "contoso",
        "pkg-1",
        {"size": "Small", "weight": 1.0, "tag": "", "delivery_state": "InDelivery"},
    )
    services.upsert_package("contoso", "pkg-1", {"size": "Large", "weight": 2.0, "tag": "x"})

    stored = Package.objects.get()
    assert created
    assert (stored.size, stored.weight, stored.delivery_state) == ("Large", 2.0, "InDelivery")
    assert stored.created_at == first.created_at
