"""A business sees and changes only its own deliveries, packages and summaries."""

from __future__ import annotations

import pytest

from tests.deliveries.factories import DeliveryBodyFactory, delivery_id
from tests.dronescheduler.factories import DroneDeliveryFactory
from tests.ingestion.factories import DeliveryRequestFactory, RescheduleFactory
from tests.packages.factories import PackageFactory
from tests.packages.stores import PACKAGES_DATABASES

pytestmark = pytest.mark.django_db(databases=PACKAGES_DATABASES)


@pytest.fixture
def acme(business_api):
    return business_api("acme")


@pytest.fixture
def globex(business_api):
    return business_api("globex")


@pytest.fixture
def acme_delivery(api, redis_store) -> str:
    new_id = delivery_id()
    body = DeliveryBodyFactory(owner={"userId": "acme", "accountId": "acme"})
    assert api.put(f"/api/deliveries/{new_id}", body, format="json").status_code == 201
    return new_id


@pytest.mark.parametrize("suffix", ["", "/owner", "/status", "/events"])
def test_another_business_gets_the_404_of_a_missing_delivery(
    api, acme, globex, acme_delivery, suffix
):
    assert acme.get(f"/api/deliveries/{acme_delivery}{suffix}").status_code == 200
    theirs = globex.get(f"/api/deliveries/{acme_delivery}{suffix}")
    missing = globex.get(f"/api/deliveries/{delivery_id()}{suffix}")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["title"] == missing.json()["title"]
    assert acme_delivery in theirs.json()["detail"]


def test_the_public_view_and_the_tracking_page_show_no_owner(anonymous_api, acme_delivery):
    public = anonymous_api.get(f"/api/deliveries/public/{acme_delivery}")
    assert public.status_code == 200
    assert "owner" not in public.json()
    page = anonymous_api.get(f"/track/{acme_delivery}")
    assert page.status_code == 200
    assert b"acme" not in page.content
    for path in ("status", "events"):
        polled = anonymous_api.get(f"/api/deliveries/public/{acme_delivery}/{path}")
        assert polled.status_code == 200
        assert b"acme" not in polled.content


def test_notify_me_only_for_own_deliveries(acme, globex, acme_delivery):
    body = {"emailAddress": "me@example.com", "sms": "+15550100"}
    path = f"/api/deliveries/{acme_delivery}/notifymerequests"
    assert globex.post(path, body, format="json").status_code == 404
    assert acme.post(path, body, format="json").status_code == 204


def test_summaries_of_another_business_are_403(acme, redis_store):
    for path in (
        "/api/deliveries/summary?ownerId=globex&year=2026&month=12",
        "/api/packages/summary/globex",
        "/api/dronedeliveries/utilization?ownerId=globex&year=2026&month=12",
    ):
        response = acme.get(path)
        assert response.status_code == 403, (path, response.content)
        assert "acts for business acme, not globex" in response.json()["detail"]
        assert acme.get(path.replace("globex", "acme")).status_code == 200, path


def test_a_summary_owner_named_by_the_path_is_checked_before_the_query(acme, redis_store):
    """The package summary's path names the owner: another's is a 403 whatever the query. The
    others name it in the query, which is read, and refused, first."""
    assert acme.get("/api/packages/summary/globex?month=13").status_code == 403
    for path in ("/api/deliveries/summary", "/api/dronedeliveries/utilization"):
        response = acme.get(path, {"ownerId": "globex", "year": 2026, "month": 13})
        assert response.status_code == 400, path
        assert "month" in response.json()["errors"]


def test_packages_of_another_business_are_hidden(acme, globex):
    PackageFactory(package_id="pkg-acme", owner_id="acme")
    assert acme.get("/api/packages/pkg-acme").json()["ownerId"] == "acme"
    assert globex.get("/api/packages/pkg-acme").status_code == 404


def test_drone_assignments_of_another_business_are_hidden(acme, globex):
    DroneDeliveryFactory(delivery_id="d-acme", owner_id="acme")
    assert acme.get("/api/dronedeliveries/d-acme").json()["ownerId"] == "acme"
    assert globex.get("/api/dronedeliveries/d-acme").status_code == 404


def test_the_fleet_is_for_the_back_office(acme, api):
    assert acme.get("/api/drones").status_code == 403
    assert api.get("/api/drones").status_code == 200


def test_a_business_requests_deliveries_only_for_itself(acme, received):
    refused = acme.post(
        "/api/deliveryrequests", DeliveryRequestFactory(ownerId="globex"), format="json"
    )
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert received() == []

    accepted = acme.post(
        "/api/deliveryrequests", DeliveryRequestFactory(ownerId="acme"), format="json"
    )
    assert accepted.status_code == 202, accepted.content
    assert [m.body["ownerId"] for m in received()] == ["acme"]


def test_only_the_requesting_business_may_cancel_or_reschedule(acme, globex, received):
    accepted = acme.post(
        "/api/deliveryrequests", DeliveryRequestFactory(ownerId="acme"), format="json"
    )
    mine = accepted.json()["deliveryId"]
    received()  # the delivery message itself

    for client, expected in ((globex, 404), (acme, 202)):
        path = f"/api/deliveryrequests/{mine}"
        assert client.patch(path, RescheduleFactory(), format="json").status_code == expected
        assert client.delete(path).status_code == expected
    never_issued = acme.delete(f"/api/deliveryrequests/{delivery_id()}")
    assert never_issued.status_code == 404
    assert [m.body["operation"] for m in received()] == ["reschedule", "cancel"]


def test_read_only_tokens_cannot_request(business_api, received):
    reader = business_api("acme", "deliveries.read")
    response = reader.post(
        "/api/deliveryrequests", DeliveryRequestFactory(ownerId="acme"), format="json"
    )
    assert response.status_code == 403
    assert "deliveries.write" in response.json()["detail"]
    assert received() == []
