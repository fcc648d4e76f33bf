"""The services' write endpoints take the `internal` scope only: a business's token, or even the
back office's, cannot write a delivery, a package or a drone assignment directly."""

from __future__ import annotations

import pytest

from tests.deliveries.factories import DeliveryBodyFactory, FlightUpdateFactory, delivery_id
from tests.dronescheduler.factories import assignment_body
from tests.packages.factories import package_body
from tests.packages.stores import PACKAGES_DATABASES
from tests.support import auth

pytestmark = pytest.mark.django_db(databases=PACKAGES_DATABASES)

WRITES = [
    ("put", "/api/deliveries/{id}", lambda: DeliveryBodyFactory()),
    ("patch", "/api/deliveries/{id}", lambda: {"deadline": "2026-12-01T13:00:00Z"}),
    ("delete", "/api/deliveries/{id}", lambda: None),
    ("post", "/api/deliveries/{id}/tracking", lambda: FlightUpdateFactory()),
    (
        "post",
        "/api/deliveries/{id}/confirmations",
        lambda: {
            "dateTime": "2026-12-01T11:00:00Z",
            "geoCoordinates": "47.6,-122.3",
            "confirmationType": "None",
            "confirmationBlob": "",
        },
    ),
    ("put", "/api/packages/{id}", lambda: package_body()),
    ("patch", "/api/packages/{id}", lambda: {"tag": "changed"}),
    ("put", "/api/dronedeliveries/{id}", lambda: assignment_body()),
    ("delete", "/api/dronedeliveries/{id}", lambda: None),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
@pytest.mark.parametrize("scopes", [("deliveries.read", "deliveries.write"), ("admin",)])
def test_public_tokens_are_refused_on_internal_writes(
    business_api, redis_store, method, path, body, scopes
):
    client = business_api("acme", *scopes) if "admin" not in scopes else auth.api_client(*scopes)
    target = path.format(id=delivery_id())
    response = getattr(client, method)(target, body(), format="json")
    assert response.status_code == 403, response.content
    assert "internal" in response.json()["detail"]
    # Nothing was written: the service token reads nothing back either.
    trusted = auth.api_client("internal")
    written = target.replace("/tracking", "").replace("/confirmations", "")
    assert trusted.get(written).status_code == 404


def test_the_service_token_writes(redis_store):
    internal = auth.api_client("internal")
    new_id = delivery_id()
    assert (
        internal.put(f"/api/deliveries/{new_id}", DeliveryBodyFactory(), format="json").status_code
        == 201
    )
    assert (
        internal.put("/api/packages/pkg-internal", package_body(), format="json").status_code == 201
    )
