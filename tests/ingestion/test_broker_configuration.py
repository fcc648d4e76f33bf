"""Which broker CELERY_BROKER_URL selects and what Celery and the publisher are configured with —
Azure Service Bus included, checked without a network (the namespace is not reachable here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from azure.identity import DefaultAzureCredential
from azure.servicebus import ServiceBusClient
from kombu import Connection
from kombu.transport import azureservicebus

from fabrikam.messaging import broker, servicebus_transport
from tests.support.live import ROOT

NAMESPACE = "sb-fabrikam-dev.servicebus.windows.net"
SAS_KEY = "kZ3+Yq/8lP0r2Vb9sXw1mN4tHc6dF7gJ5eA0uI2oQyE="  # a made-up key shaped like a real one
CONNECTION_STRING = (
    f"Endpoint=sb://{NAMESPACE}/;SharedAccessKeyName=fabrikam-send;SharedAccessKey={SAS_KEY}"
)


def test_a_service_bus_connection_string_becomes_a_kombu_url():
    assert broker.service_bus_url(CONNECTION_STRING) == (
        f"azureservicebus://fabrikam-send:{SAS_KEY}@{NAMESPACE}"
    )


@pytest.mark.parametrize(
    "value",
    [
        "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send",  # no key
        "Endpoint=https://ns.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey=b",
    ],
)
def test_a_broken_connection_string_says_what_is_expected(value):
    with pytest.raises(broker.BrokerUrlError, match="SharedAccessKey=<key>"):
        broker.service_bus_url(value)


def test_an_unknown_scheme_names_the_supported_ones():
    with pytest.raises(broker.BrokerUrlError, match=r"redis://, amqp:// .* azureservicebus://"):
        broker.kind("sqs://queue")


def test_kombu_builds_a_service_bus_connection_from_a_shared_access_key_url():
    url = broker.service_bus_url(CONNECTION_STRING)
    options = broker.transport_options(url, connect_timeout=2, publish_timeout=3)

    with Connection(url, transport_options=options) as connection:
        assert connection.transport_cls == "azureservicebus"
        assert isinstance(connection.transport, azureservicebus.Transport)
        channel = connection.channel()  # parses the credentials; opens nothing
        assert channel._namespace == NAMESPACE
        assert (channel._policy, channel._sas_key) == ("fabrikam-send", SAS_KEY)
        assert channel.retry_total == 1
        client = channel.queue_service
        assert isinstance(client, ServiceBusClient)
        assert client.fully_qualified_namespace == NAMESPACE


def test_kombu_builds_a_service_bus_connection_with_a_managed_identity():
    url = f"azureservicebus://DefaultAzureCredential@{NAMESPACE}"

    with Connection(url) as connection:
        channel = connection.channel()
        assert channel._namespace == NAMESPACE
        assert isinstance(channel._credential, DefaultAzureCredential)
        assert channel._connection_string is None  # no key anywhere: tokens from Entra ID
        assert channel.queue_service.fully_qualified_namespace == NAMESPACE


def configuration_for(broker_url: str | None, **extra_env: str) -> dict:
    """What a freshly started process makes of CELERY_BROKER_URL (settings are read once)."""
    script = """
import json, django
django.setup()
from django.conf import settings
from fabrikam.celery import app
from fabrikam.apps.ingestion import publisher
connection = publisher._pool().connection
print(json.dumps({
    "broker_url": app.conf.broker_url,
    "transport": connection.transport_cls,
    "transport_options": app.conf.broker_transport_options,
    "publisher_transport_options": connection.transport_options,
    "connect_timeout": connection.connect_timeout,
    "queues": {q.name: {"declare": not q.no_declare, "exchange": q.exchange.name}
               for q in app.conf.task_queues},
    "publisher_queues": [q.name for q in publisher.queues()],
    "worker_queue": app.conf.task_default_queue,
}))
"""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "fabrikam.settings.production", **extra_env}
    env.pop("CELERY_BROKER_URL", None)
    env.pop("SERVICE_BUS_CONNECTION_STRING", None)
    env.update({"CELERY_BROKER_URL": broker_url} if broker_url else {})
    env.update(extra_env)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_celery_uses_service_bus_from_a_connection_string_and_declares_nothing():
    config = configuration_for(
        None,
        SERVICE_BUS_CONNECTION_STRING=CONNECTION_STRING,
        DELIVERY_REQUESTS_QUEUE="deliveryrequests",
    )

    assert config["broker_url"] == f"azureservicebus://fabrikam-send:{SAS_KEY}@{NAMESPACE}"
    assert config["transport"] == "fabrikam.messaging.servicebus_transport:Transport"
    assert config["transport_options"] == {
        "retry_total": 1,
        "retry_backoff_factor": 0.2,
        "retry_backoff_max": 3.0,
    }
    # Bicep creates the queues; the app's identities may send and listen, not manage.
    assert config["queues"] == {
        "deliveryrequests": {"declare": False, "exchange": "deliveryrequests"},
        "deliveryrequests-deadletter": {
            "declare": False,
            "exchange": "deliveryrequests-deadletter",
        },
    }
    assert config["publisher_queues"] == ["deliveryrequests", "deliveryrequests-deadletter"]
    assert config["worker_queue"] == "deliveryrequests"


def test_celery_uses_service_bus_with_a_managed_identity():
    config = configuration_for(
        f"azureservicebus://DefaultAzureCredential@{NAMESPACE}",
        DELIVERY_REQUESTS_QUEUE="orders",
        DELIVERY_REQUESTS_DEADLETTER_QUEUE="orders-poison",
    )
    assert config["transport"] == "fabrikam.messaging.servicebus_transport:Transport"
    assert set(config["queues"]) == {"orders", "orders-poison"}


def service_bus_sends(broker_url: str) -> list[dict]:
    """What a fresh process hands the Service Bus SDK: the ingestion publisher sends one request
    twice (a client's retry after a timeout) and another once; then a plain Celery task is sent.
    The SDK's sender is replaced at its network edge (`send_messages`): nothing leaves the host."""
    script = """
import json, django
django.setup()
from unittest import mock
from azure.servicebus import ServiceBusMessage, ServiceBusSender
from fabrikam.apps.ingestion import publisher
from fabrikam.celery import app
sent = []
def send_messages(self, message, **kwargs):
    assert isinstance(message, ServiceBusMessage)
    sent.append({"queue": self.entity_name, "message_id": message.message_id,
                 "celery_id": json.loads(str(message))["headers"]["id"]})
with mock.patch.object(ServiceBusSender, "send_messages", send_messages):
    publisher.publish({"operation": "delivery", "deliveryId": "d-1"}, "d-1:delivery:1", {})
    publisher.publish({"operation": "delivery", "deliveryId": "d-1"}, "d-1:delivery:1", {})
    publisher.publish({"operation": "cancel", "deliveryId": "d-1"}, "d-1:cancel:1", {})
    app.send_task("workflow.handle_delivery_request", args=[{}], task_id="task-7",
                  queue=publisher.queues()[1])
print(json.dumps(sent))
"""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fabrikam.settings.production",
        "CELERY_BROKER_URL": broker_url,
    }
    env.pop("SERVICE_BUS_CONNECTION_STRING", None)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "broker_url",
    [
        broker.service_bus_url(CONNECTION_STRING),
        f"azureservicebus://DefaultAzureCredential@{NAMESPACE}",
    ],
)
def test_service_bus_messages_carry_our_message_id_so_the_queue_drops_a_resend(broker_url):
    sends = service_bus_sends(broker_url)
    assert [s["message_id"] for s in sends] == [
        "d-1:delivery:1",
        "d-1:delivery:1",  # the retry: the same MessageId, which duplicate detection drops
        "d-1:cancel:1",
        "task-7",  # a task sent without one: Celery's task id
    ]
    assert [s["celery_id"] for s in sends] == [s["message_id"] for s in sends]
    assert [s["queue"] for s in sends] == ["deliveryrequests"] * 3 + ["deliveryrequests-deadletter"]


def test_the_message_id_comes_from_the_kombu_message():
    assert (
        servicebus_transport.message_id(
            {"properties": {"message_id": "a:b:1"}, "headers": {"id": "x"}}
        )
        == "a:b:1"
    )
    assert (
        servicebus_transport.message_id({"properties": {}, "headers": {"id": "task-1"}}) == "task-1"
    )
    assert servicebus_transport.message_id({"properties": {}, "headers": {}}) is None


def test_rabbitmq_publishes_with_confirms_and_bounded_socket_waits():
    config = configuration_for(
        "amqp://user:secret@rabbitmq:5672//",
        BROKER_CONNECT_TIMEOUT="1.5",
        BROKER_PUBLISH_TIMEOUT="4",
    )
    assert config["transport"] == "amqp"
    assert config["transport_options"] == {"confirm_publish": True}
    assert config["publisher_transport_options"] == {
        "confirm_publish": True,
        "read_timeout": 4.0,
        "write_timeout": 4.0,
    }
    assert config["connect_timeout"] == 1.5
    assert all(queue["declare"] for queue in config["queues"].values())


@pytest.mark.parametrize(
    ("pipelined", "transport"),
    [("true", "fabrikam.messaging.redis_transport:Transport"), ("false", "redis")],
)
def test_redis_bounds_connecting_and_each_command(pipelined, transport):
    config = configuration_for(
        "redis://127.0.0.1:6399/5", BROKER_CONNECT_TIMEOUT="1", BROKER_REDIS_PIPELINED=pipelined
    )
    assert config["transport"] == transport
    assert config["transport_options"] == {
        "socket_connect_timeout": 1.0,
        "socket_timeout": 3.0,
        # the workflow's redelivery of unacknowledged messages (see the workflow's settings)
        "visibility_timeout": 240,  # WORKFLOW_TASK_TIME_LIMIT + WORKFLOW_RETRY_MAX_DELAY
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
    }


@pytest.mark.parametrize(
    ("variables", "advice"),
    [
        ({"CELERY_BROKER_URL": CONNECTION_STRING}, "Move the connection string"),
        ({"CELERY_BROKER_URL": "kafka://broker:9092"}, "use redis://, amqp://"),
        ({"SERVICE_BUS_CONNECTION_STRING": "Endpoint=sb://ns/;SharedAccessKey=k"}, "policies"),
    ],
)
def test_a_broker_the_system_cannot_use_stops_it_from_starting(variables, advice):
    env = {**os.environ, **variables}
    if "CELERY_BROKER_URL" not in variables:
        env.pop("CELERY_BROKER_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert advice in result.stderr
