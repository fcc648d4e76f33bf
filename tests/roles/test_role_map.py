"""The role map (fabrikam/roles.py) is what decides a role's URLs, process and queues: a role
added to it is served, started and fed by the same code, with nothing else to change."""

from types import ModuleType

import pytest
from django.urls import Resolver404, resolve

from fabrikam import roles
from fabrikam.roles import Process, Queue, Role
from fabrikam.runtime import processes
from fabrikam.urls import urlpatterns_for


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_the_worker_and_scheduler_consume_the_queues_the_settings_name(settings):
    settings.DELIVERY_REQUESTS_QUEUE = "requests-of-this-test"
    settings.FLIGHT_QUEUE = "ticks-of-this-test"

    workflow = processes.command_for("workflow", "127.0.0.1", 8000)
    scheduler = processes.command_for("scheduler", "127.0.0.1", 8000)

    assert option(workflow, "--queues") == "requests-of-this-test"
    assert option(scheduler, "--queues") == "ticks-of-this-test"
    assert "--beat" in scheduler
    assert "--beat" not in workflow


def test_a_role_added_to_the_map_consumes_the_queues_the_map_gives_it(settings, monkeypatch):
    settings.DELIVERY_REQUESTS_QUEUE = "requests-of-this-test"
    settings.FLIGHT_QUEUE = "ticks-of-this-test"
    replayer = Role(
        "replayer",
        Process.WORKER,
        stores=frozenset({roles.Store.BROKER}),
        queues=(Queue.FLIGHTS, Queue.DELIVERY_REQUESTS),
    )
    monkeypatch.setitem(roles.ROLES, "replayer", replayer)

    argv = processes.command_for("replayer", "127.0.0.1", 8000)

    assert option(argv, "--queues") == "ticks-of-this-test,requests-of-this-test"
    assert roles.queues(roles.ALL) == ("requests-of-this-test", "ticks-of-this-test")


def test_a_role_added_to_the_map_mounts_the_urls_the_map_gives_it(monkeypatch):
    tracking = Role("tracking", Process.HTTP, ("fabrikam.apps.deliveries.pages.urls",))
    monkeypatch.setitem(roles.ROLES, "tracking", tracking)
    urlconf = ModuleType("urls_tracking")
    urlconf.urlpatterns = urlpatterns_for("tracking")

    assert resolve("/track/some-delivery", urlconf=urlconf)
    assert resolve("/healthz/live", urlconf=urlconf)
    with pytest.raises(Resolver404):
        resolve("/api/deliveryrequests", urlconf=urlconf)
    assert processes.command_for("tracking", "127.0.0.1", 8123)[3] == "fabrikam.asgi:application"
