"""Taking drones out of service and back, from the services and from Django admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from fabrikam.apps.dronescheduler import flights, services
from fabrikam.apps.dronescheduler.exceptions import DroneBusy, NoDroneAvailable
from fabrikam.apps.dronescheduler.models import Drone, DroneDelivery, DroneStatus
from tests.dronescheduler.factories import SEATTLE, DroneFactory, assignment_body, north_of

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/dronescheduler/drone/"


def assign(api, delivery_id: str = "d-1") -> str:
    """Assign a delivery at SEATTLE; a drone based there (made unless one exists) takes it."""
    if not Drone.objects.filter(latitude=SEATTLE.latitude, longitude=SEATTLE.longitude).exists():
        DroneFactory(at=SEATTLE)
    response = api.put(f"/api/dronedeliveries/{delivery_id}", assignment_body(), format="json")
    assert response.status_code == 200, response.content
    return response.json()["droneId"]


def test_a_drone_in_maintenance_is_not_assigned_until_back_in_service(api):
    drone = DroneFactory()

    services.send_to_maintenance(drone.id)
    assert api.put("/api/dronedeliveries/d-1", assignment_body(), format="json").status_code == 409

    services.return_to_service(drone.id)
    assert assign(api) == drone.id


def test_a_drone_back_from_maintenance_with_a_low_battery_charges_first():
    drone = DroneFactory(battery=40)
    services.send_to_maintenance(drone.id)

    services.return_to_service(drone.id)

    drone.refresh_from_db()
    assert drone.status == DroneStatus.CHARGING


def test_an_assigned_drone_is_not_pulled_without_reassigning_its_delivery(api):
    DroneFactory(id="spare", at=north_of(SEATTLE, 3))
    drone_id = assign(api)

    with pytest.raises(DroneBusy, match=r"d-1.*reassign"):
        services.send_to_maintenance(drone_id)

    assert Drone.objects.get(pk=drone_id).status == DroneStatus.ASSIGNED
    assert DroneDelivery.objects.get(delivery_id="d-1").drone_id == drone_id


def test_pulling_an_assigned_drone_with_reassignment_moves_its_delivery(api):
    DroneFactory(id="spare", at=north_of(SEATTLE, 3))
    drone_id = assign(api)

    services.send_to_maintenance(drone_id, reassign=True)

    assert Drone.objects.get(pk=drone_id).status == DroneStatus.MAINTENANCE
    assert Drone.objects.get(pk="spare").status == DroneStatus.ASSIGNED
    moved = api.get("/api/dronedeliveries/d-1").json()
    assert moved["droneId"] == "spare"
    assert moved["stage"] == "Assigned"


def test_reassignment_with_no_other_drone_changes_nothing(api):
    drone_id = assign(api)

    with pytest.raises(NoDroneAvailable):
        services.send_to_maintenance(drone_id, reassign=True)

    assert Drone.objects.get(pk=drone_id).status == DroneStatus.ASSIGNED
    assert DroneDelivery.objects.get(delivery_id="d-1").drone_id == drone_id


def test_a_flying_drone_cannot_go_to_maintenance(api, settings):
    settings.SERVICE_URL_DELIVERY = "http://127.0.0.1:9"
    DroneFactory(id="spare", at=north_of(SEATTLE, 3))
    drone_id = assign(api)
    flights.advance_flights(timezone.now() + timedelta(seconds=1))

    with pytest.raises(DroneBusy, match="in the air"):
        services.send_to_maintenance(drone_id, reassign=True)
    assert Drone.objects.get(pk=drone_id).status == DroneStatus.IN_FLIGHT


def test_the_admin_lists_drones_filtered_by_status_and_battery(admin_client):
    DroneFactory(id="low-available", battery=10)
    DroneFactory(id="full-available", battery=100)
    DroneFactory(id="low-charging", battery=10, status=DroneStatus.CHARGING)

    page = admin_client.get(CHANGELIST, {"status": "available", "battery": "low"})

    assert page.status_code == 200
    listed = {drone.id for drone in page.context["cl"].result_list}
    assert listed == {"low-available"}
    assert "10%" in page.content.decode()


def test_the_admin_action_refuses_an_assigned_drone_and_says_why(admin_client, api):
    idle = DroneFactory(id="idle", at=north_of(SEATTLE, 5))
    busy = assign(api)

    response = admin_client.post(
        CHANGELIST,
        {"action": "send_to_maintenance", "_selected_action": [busy, idle.id]},
        follow=True,
    )

    texts = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("reassign the delivery" in text for text in texts)
    assert "1 drone(s) sent to maintenance." in texts
    assert Drone.objects.get(pk=busy).status == DroneStatus.ASSIGNED
    assert Drone.objects.get(pk="idle").status == DroneStatus.MAINTENANCE


def test_the_admin_reassign_action_moves_the_delivery_then_pulls_the_drone(admin_client, api):
    DroneFactory(id="spare", at=north_of(SEATTLE, 5))
    busy = assign(api)

    admin_client.post(
        CHANGELIST,
        {"action": "reassign_and_send_to_maintenance", "_selected_action": [busy]},
    )

    assert Drone.objects.get(pk=busy).status == DroneStatus.MAINTENANCE
    assert DroneDelivery.objects.get(delivery_id="d-1").drone_id == "spare"


def test_the_admin_shows_assignments_and_flights(admin_client, api):
    assign(api)

    for page in ("dronedelivery", "flight"):
        response = admin_client.get(f"/admin/dronescheduler/{page}/")
        assert response.status_code == 200
        assert "d-1" in response.content.decode()
