"""The delivery saga with the real worker, broker and HTTP services, faults injected on the wire."""

from __future__ import annotations

import threading

import pytest
import requests
from kombu import Connection, Exchange, Queue

from tests.e2e.conftest import delivery_request
from tests.support import auth
from tests.support.faulty_proxy import Fault
from tests.support.live import manage, wait_until

pytestmark = [pytest.mark.e2e]


def scheduled(saga, delivery_id: str, timeout: float = 30) -> dict:
    return wait_until(lambda: saga.delivery(delivery_id), timeout, f"delivery {delivery_id}")


def test_happy_path_creates_one_package_one_drone_one_delivery(saga):
    saga.start_worker()
    delivery_id = saga.request_delivery("pkg-happy")
    delivery = scheduled(saga, delivery_id)
    assert saga.assigned_drones() == [delivery["droneId"]]
    assert saga.get("package", "/api/packages/pkg-happy").status_code == 200
    assert saga.proxies["delivery"].calls("PUT", f"/api/deliveries/{delivery_id}") == [201]


def test_a_service_failing_twice_then_recovering_completes_without_duplicates(saga):
    saga.proxies["dronescheduler"].add(Fault("PUT", "/api/dronedeliveries/", status=503, times=2))
    saga.start_worker()
    delivery_id = saga.request_delivery("pkg-flaky")
    delivery = scheduled(saga, delivery_id)

    assert saga.proxies["dronescheduler"].calls("PUT", "/api/dronedeliveries/") == [503, 503, 200]
    # The package step had succeeded before the failures and was not redone on the retries.
    assert saga.proxies["package"].calls("PUT", "/api/packages/pkg-flaky") == [201]
    assert saga.assigned_drones() == [delivery["droneId"]]
    events = saga.get("delivery", f"/api/deliveries/{delivery_id}/events").json()
    assert [e["stage"] for e in events] == ["Created"]


@pytest.mark.parametrize(
    ("pool", "redis_pipelined"),
    [
        ("prefork", "true"),
        ("solo", "true"),  # `make run`'s one-slot workers
        ("solo", "false"),  # kombu's own Redis transport (no effect on RabbitMQ)
    ],
)
def test_a_worker_killed_mid_saga_and_restarted_leaves_exactly_one_of_everything(
    saga, pool, redis_pipelined
):
    saga.env["WORKFLOW_POOL"] = pool
    saga.env["BROKER_REDIS_PIPELINED"] = redis_pipelined
    release = threading.Event()
    saga.proxies["delivery"].add(Fault("PUT", "/api/deliveries/", hold=release, times=1))
    delivery_id = saga.request_delivery("pkg-crash")  # waiting: fetched as a backlog is
    saga.start_worker()
    wait_until(saga.proxies["delivery"].held, 30, "the saga to reach the delivery step")

    saga.kill_worker()
    release.set()  # the in-flight PUT lands after its worker died: the crash window
    saga.start_worker()

    delivery = scheduled(saga, delivery_id, timeout=40)
    wait_until(
        lambda: len(saga.proxies["delivery"].calls("PUT", f"/api/deliveries/{delivery_id}")) == 2,
        30,
        "the redelivered message to finish the saga",
    )
    assert saga.proxies["delivery"].calls("PUT", f"/api/deliveries/{delivery_id}") == [201, 200]
    # The drone is recorded with the saga's last write, which the killed worker never made: the
    # redelivery asks again and gets the same assignment back (idempotent by delivery id).
    assert saga.proxies["dronescheduler"].calls("PUT", "/api/dronedeliveries/") == [200, 200]
    assert saga.assigned_drones() == [delivery["droneId"]]
    stored = saga.get("delivery", f"/api/deliveries/{delivery_id}").json()
    assert stored["droneId"] == delivery["droneId"]
    events = saga.get("delivery", f"/api/deliveries/{delivery_id}/events").json()
    assert [e["stage"] for e in events] == ["Created"]


def publish_raw(saga, body: bytes | dict, content_type: str = "application/json") -> None:
    queue_name = saga.env["DELIVERY_REQUESTS_QUEUE"]
    queue = Queue(queue_name, Exchange(queue_name, type="direct"), routing_key=queue_name)
    with Connection(saga.env["CELERY_BROKER_URL"]) as connection:
        producer = connection.Producer()
        producer.publish(
            body,
            exchange=queue.exchange,
            routing_key=queue_name,
            declare=[queue],
            content_type=content_type,
            content_encoding="utf-8",
            serializer="json" if isinstance(body, dict) else None,
        )


def test_poison_messages_land_in_the_dead_letter_queue_with_their_reason(saga):
    from fabrikam.celery import app
    from fabrikam.contract.messages import TASK_NAME

    saga.start_worker()
    with app.connection_for_write(saga.env["CELERY_BROKER_URL"]) as connection:
        app.send_task(
            TASK_NAME,
            args=[{"operation": "teleport", "deliveryId": "poison-1"}],
            task_id="poison-1:teleport:1",
            queue=saga.env["DELIVERY_REQUESTS_QUEUE"],
            connection=connection,
        )
    letter = saga.wait_for_dead_letter("poison-1")
    assert letter["reason"].startswith("invalid message: unknown operation 'teleport'")
    assert letter["originalBody"] == {"operation": "teleport", "deliveryId": "poison-1"}

    publish_raw(saga, b"{not json")
    garbled = wait_until(
        lambda: [
            x
            for x in saga.dead_letters()
            if "unparseable" in x["reason"] or "not a task message" in x["reason"]
        ],
        30,
        "the unparseable message to be dead-lettered",
        interval=0.5,
    )
    assert garbled[0]["originalBody"] == "{not json"


def status_of(saga, delivery_id: str) -> dict | None:
    response = saga.get("delivery", f"/api/deliveries/{delivery_id}/status")
    return response.json() if response.status_code == 200 else None


def ended_with(saga, delivery_id: str, timeout: float = 30) -> dict:
    """The status once the client can read that the request ended (Cancelled, with why)."""
    return wait_until(
        lambda: (s := status_of(saga, delivery_id)) and s["stage"] == "Cancelled" and s,
        timeout,
        f"delivery {delivery_id} to read as cancelled",
    )


def test_a_permanent_refusal_compensates_the_earlier_steps_and_the_client_reads_why(saga):
    saga.proxies["delivery"].add(Fault("PUT", "/api/deliveries/", status=422, times=1))
    saga.start_worker()
    delivery_id = saga.request_delivery("pkg-refused")

    status = ended_with(saga, delivery_id)

    assert status["reason"] == "delivery refused: injected fault"
    assert saga.proxies["delivery"].calls("PUT", f"/api/deliveries/{delivery_id}") == [422, 201]
    assert saga.proxies["dronescheduler"].calls(
        "DELETE", f"/api/dronedeliveries/{delivery_id}"
    ) == [200]
    assert saga.assigned_drones() == []
    released = saga.get("dronescheduler", f"/api/dronedeliveries/{delivery_id}").json()
    assert released["stage"] == "Released"
    assert saga.proxies["package"].calls("PATCH", "/api/packages/pkg-refused") == [204]
    events = saga.get("delivery", f"/api/deliveries/{delivery_id}/events").json()
    assert [e["stage"] for e in events] == ["Created", "Cancelled"]


def test_a_package_no_drone_of_the_fleet_can_carry_is_compensated_at_once(saga):
    saga.start_worker()
    heavy = {"packageId": "pkg-14kg", "size": "Large", "weight": 14.0, "tag": "anvil"}
    delivery_id = saga.request_delivery("pkg-14kg", packageInfo=heavy)

    status = ended_with(saga, delivery_id)

    assert status["reason"].startswith("unserviceable: No drone of the fleet can carry 14 kg")
    assert saga.proxies["dronescheduler"].calls("PUT", f"/api/dronedeliveries/{delivery_id}") == [
        422
    ]
    package = saga.get("package", "/api/packages/pkg-14kg").json()
    assert package["deliveryState"] == "NotInDelivery"
    assert saga.assigned_drones() == []


def test_a_delivery_cancelled_while_it_waits_for_a_drone_reads_as_cancelled(saga):
    saga.proxies["dronescheduler"].add(Fault("PUT", "/api/dronedeliveries/", status=409))
    saga.start_worker()
    delivery_id = saga.request_delivery("pkg-waiting")
    wait_until(
        lambda: len(saga.proxies["dronescheduler"].calls("PUT", "/api/dronedeliveries/")) >= 2,
        30,
        "the saga to wait for a drone",
    )

    response = requests.delete(
        f"{saga.urls['ingestion']}/api/deliveryrequests/{delivery_id}",
        timeout=10,
        headers=auth.headers(),
    )
    assert response.status_code == 202

    status = ended_with(saga, delivery_id)
    assert status["reason"] == "cancelled by the client"
    delivery = saga.delivery(delivery_id)
    assert (delivery["stage"], delivery["reason"]) == ("Cancelled", "cancelled by the client")
    assert saga.get("package", "/api/packages/pkg-waiting").json()["deliveryState"] == (
        "NotInDelivery"
    )
    assert saga.assigned_drones() == []


def test_retries_exhausted_dead_letters_and_a_replay_completes_once_the_service_is_back(saga):
    saga.proxies["package"].add(Fault("PUT", "/api/packages/", status=503))
    saga.start_worker()
    delivery_id = saga.request_delivery("pkg-down")

    letter = saga.wait_for_dead_letter(delivery_id)
    assert letter["reason"].startswith("gave up after 4 attempts")
    assert letter["originalBody"]["packageInfo"]["packageId"] == "pkg-down"
    assert saga.proxies["package"].calls("PUT", "/api/packages/pkg-down") == [503] * 4
    assert saga.delivery(delivery_id) is None

    saga.proxies["package"].clear()
    output = manage(["deadletters", "replay", letter["messageId"]], saga.env)
    assert f"replayed {letter['messageId']}" in output
    delivery = scheduled(saga, delivery_id)
    assert saga.assigned_drones() == [delivery["droneId"]]
    assert all(x["messageId"] != letter["messageId"] for x in saga.dead_letters())


def send_message(saga, message: dict, task_id: str) -> None:
    from fabrikam.celery import app
    from fabrikam.contract.messages import TASK_NAME

    with app.connection_for_write(saga.env["CELERY_BROKER_URL"]) as connection:
        app.send_task(
            TASK_NAME,
            args=[message],
            task_id=task_id,
            queue=saga.env["DELIVERY_REQUESTS_QUEUE"],
            connection=connection,
        )


def test_a_cancel_that_arrives_before_its_create_makes_the_create_only_show_it_cancelled(saga):
    delivery_id = "early-cancel-1"
    send_message(
        saga, {"operation": "cancel", "deliveryId": delivery_id}, f"{delivery_id}:cancel:1"
    )
    request = delivery_request("pkg-early")
    create = {
        "operation": "delivery",
        "deliveryId": delivery_id,
        "ownerId": request["ownerId"],
        "pickup": {"latitude": 47.6097, "longitude": -122.3331, "altitude": 0},
        "dropoff": request["dropOffLocation"],
        "pickupTime": request["pickupTime"],
        "deadline": None,
        "expedited": False,
        "confirmationRequired": "None",
        "packageInfo": request["packageInfo"],
    }
    send_message(saga, create, f"{delivery_id}:delivery:1")
    # A delivery requested after both proves the worker got past them.
    saga.start_worker()
    later = saga.request_delivery("pkg-after")
    scheduled(saga, later)

    status = ended_with(saga, delivery_id)
    assert status["reason"] == "cancelled before it was scheduled"
    assert saga.proxies["package"].calls("PUT", "/api/packages/pkg-early") == []
    assert saga.proxies["dronescheduler"].calls("PUT", f"/api/dronedeliveries/{delivery_id}") == []


def test_cancelling_a_scheduled_delivery_releases_its_drone(saga):
    saga.start_worker()
    delivery_id = saga.request_delivery("pkg-cancel")
    scheduled(saga, delivery_id)

    response = requests.delete(
        f"{saga.urls['ingestion']}/api/deliveryrequests/{delivery_id}",
        timeout=10,
        headers=auth.headers(),
    )
    assert response.status_code == 202
    cancelled = wait_until(
        lambda: (d := saga.delivery(delivery_id)) and d["stage"] == "Cancelled" and d,
        30,
        "the delivery to be cancelled",
    )
    assert cancelled["stage"] == "Cancelled"
    wait_until(lambda: saga.assigned_drones() == [], 30, "the drone to be released")
    events = saga.get("delivery", f"/api/deliveries/{delivery_id}/events").json()
    assert [e["stage"] for e in events] == ["Created", "Cancelled"]


def test_a_reschedule_updates_the_delivery_and_re_plans_the_drone(saga):
    saga.start_worker()
    delivery_id = saga.request_delivery("pkg-move")
    before = scheduled(saga, delivery_id)
    new_dropoff = {"latitude": 47.6300, "longitude": -122.3600, "altitude": 0.0}

    response = requests.patch(
        f"{saga.urls['ingestion']}/api/deliveryrequests/{delivery_id}",
        json={"dropOffLocation": new_dropoff},
        timeout=10,
        headers=auth.headers(),
    )
    assert response.status_code == 202, response.text

    moved = wait_until(
        lambda: (d := saga.delivery(delivery_id)) and d["dropoff"] == new_dropoff and d,
        30,
        "the delivery's new dropoff",
    )
    assert moved["droneId"] == before["droneId"]

    def replanned() -> bool:  # the saga re-plans the drone right after updating the delivery
        assignment = saga.get("dronescheduler", f"/api/dronedeliveries/{delivery_id}").json()
        dropoff = assignment["dropoff"]
        return (dropoff["latitude"], dropoff["longitude"]) == (47.63, -122.36)

    wait_until(replanned, 30, "the drone's flight to be re-planned")
    events = saga.get("delivery", f"/api/deliveries/{delivery_id}/events").json()
    assert [e["stage"] for e in events] == ["Created", "Rescheduled"]
