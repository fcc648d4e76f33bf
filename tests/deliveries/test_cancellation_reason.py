"""What became of a request that ended without a drone: the workflow stores it Cancelled with
the reason (PUT with `stage: Cancelled`), and a cancel keeps its reason; the client reads both
through the delivery and its status."""

from __future__ import annotations

import pytest

from tests.deliveries.conftest import stages
from tests.deliveries.factories import DeliveryBodyFactory, LocationFactory, delivery_id

pytestmark = [pytest.mark.redis]

NO_DRONE = "unserviceable: no drone of the fleet can carry 14 kg"


def put_cancelled(api, new_id: str, body: dict, reason: str = NO_DRONE):
    return api.put(
        f"/api/deliveries/{new_id}", {**body, "stage": "Cancelled", "reason": reason}, format="json"
    )


def test_a_request_that_ended_unscheduled_is_readable_as_cancelled_with_its_reason(
    api, redis_store
):
    new_id, body = delivery_id(), DeliveryBodyFactory(droneId="")

    response = put_cancelled(api, new_id, body)

    assert response.status_code == 201, response.content
    assert response.json()["stage"] == "Cancelled"
    status = api.get(f"/api/deliveries/{new_id}/status").json()
    assert (status["stage"], status["reason"]) == ("Cancelled", NO_DRONE)
    delivery = api.get(f"/api/deliveries/{new_id}").json()
    assert (delivery["stage"], delivery["reason"]) == ("Cancelled", NO_DRONE)
    assert api.get(f"/api/deliveries/public/{new_id}").json()["reason"] == NO_DRONE
    assert stages(api, new_id) == ["Created", "Cancelled"]


def test_storing_it_cancelled_again_changes_nothing(api, redis_store):
    new_id, body = delivery_id(), DeliveryBodyFactory()
    put_cancelled(api, new_id, body)

    again = put_cancelled(api, new_id, body, reason="another reason")

    assert again.status_code == 200
    assert again.json()["reason"] == NO_DRONE
    assert stages(api, new_id) == ["Created", "Cancelled"]


def test_storing_a_scheduled_delivery_cancelled_keeps_its_details(api, create):
    new_id, body = create()
    moved = LocationFactory()
    api.patch(f"/api/deliveries/{new_id}", {"dropoff": moved}, format="json")

    response = put_cancelled(api, new_id, body, reason="cancelled by the client")

    assert response.status_code == 200
    assert response.json()["dropoff"] == moved
    assert response.json()["reason"] == "cancelled by the client"
    assert stages(api, new_id) == ["Created", "Rescheduled", "Cancelled"]


def test_storing_another_owners_delivery_cancelled_is_refused(api, create):
    new_id, body = create()
    other = {**body, "owner": {"userId": "someone-else", "accountId": "someone-else"}}

    response = put_cancelled(api, new_id, other)

    assert response.status_code == 409
    assert "owner.userId" in response.json()["errors"]
    assert api.get(f"/api/deliveries/{new_id}/status").json()["stage"] == "Created"


def test_storing_it_cancelled_needs_a_reason(api, redis_store):
    new_id = delivery_id()

    response = put_cancelled(api, new_id, DeliveryBodyFactory(), reason=" ")

    # Each field is valid alone (a blank reason is allowed for Created): 422, as the schema says.
    assert response.status_code == 422
    assert "reason" in response.json()["errors"]
    assert api.get(f"/api/deliveries/{new_id}").status_code == 404


def test_a_cancel_keeps_the_reason_it_was_given(api, create):
    new_id, _ = create()

    response = api.delete(
        f"/api/deliveries/{new_id}", {"reason": "cancelled by the client"}, format="json"
    )

    assert response.status_code == 200
    status = api.get(f"/api/deliveries/{new_id}/status").json()
    assert (status["stage"], status["reason"]) == ("Cancelled", "cancelled by the client")


def test_a_cancel_without_a_reason_and_an_open_delivery_show_no_reason(api, create):
    cancelled, _ = create()
    open_one, _ = create()

    assert api.delete(f"/api/deliveries/{cancelled}").status_code == 200

    assert api.get(f"/api/deliveries/{cancelled}/status").json()["reason"] is None
    assert api.get(f"/api/deliveries/{open_one}/status").json()["reason"] is None


def test_a_reason_longer_than_allowed_is_a_400_naming_it(api, create):
    new_id, _ = create()

    response = api.delete(f"/api/deliveries/{new_id}", {"reason": "x" * 501}, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    assert api.get(f"/api/deliveries/{new_id}/status").json()["stage"] == "Created"
