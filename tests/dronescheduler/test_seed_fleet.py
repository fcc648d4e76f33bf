"""`manage.py seed_fleet --drones N --area "lat,lon,radius_km"`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from fabrikam.apps.dronescheduler.models import Drone, DroneStatus
from fabrikam.contract.geo import Location, distance_km
from tests.dronescheduler.factories import DroneFactory

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_fleet", *args, stdout=out)
    return out.getvalue()


def test_seeding_creates_a_ready_fleet_inside_the_area_with_progress():
    output = seed("--drones", "1200", "--area", "47.6,-122.3,5")

    assert Drone.objects.count() == 1200
    assert "500/1200 drones" in output
    assert "1200/1200 drones" in output
    assert "1200 drones created" in output
    center = Location(47.6, -122.3)
    assert max(distance_km(center, d.position) for d in Drone.objects.all()) <= 5.0
    assert set(Drone.objects.values_list("status", flat=True)) == {DroneStatus.AVAILABLE}
    assert Drone.objects.values("model").distinct().count() == 3


def test_seeding_again_keeps_existing_drones():
    seed("--drones", "10")
    Drone.objects.filter(pk="drone-00001").update(status=DroneStatus.MAINTENANCE)

    output = seed("--drones", "15")

    assert Drone.objects.count() == 15
    assert Drone.objects.get(pk="drone-00001").status == DroneStatus.MAINTENANCE
    assert "5 drones created" in output
    assert "10 already existed" in output


def test_if_empty_leaves_an_existing_fleet_alone():
    DroneFactory()

    assert "already exist; not seeding" in seed("--drones", "5", "--if-empty")
    assert Drone.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--area", "Seattle"], "latitude,longitude,radius_km"),
        (["--area", "95,0,5"], "out of range"),
        (["--area", "47,-122,0"], "out of range"),
        (["--drones", "0"], "between 1 and"),
    ],
)
def test_bad_arguments_say_what_to_give(args, message):
    with pytest.raises(CommandError, match=message):
        seed(*args)
    assert not Drone.objects.exists()
