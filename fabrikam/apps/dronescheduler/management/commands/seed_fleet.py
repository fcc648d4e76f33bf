"""`manage.py seed_fleet --drones N --area "lat,lon,radius_km"`: create a fleet of drones."""

from __future__ import annotations

from itertools import islice
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fabrikam.apps.dronescheduler.fleet import build_drones
from fabrikam.apps.dronescheduler.models import Drone
from fabrikam.contract.geo import Location

BATCH = 500
MAX_DRONES = 1_000_000


def parse_area(value: str) -> tuple[Location, float]:
    try:
        lat, lon, radius = (float(part) for part in value.split(","))
    except ValueError:
        raise CommandError(
            f'--area {value!r}: give "latitude,longitude,radius_km", e.g. "47.61,-122.33,8"'
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 < radius <= 500):
        raise CommandError(
            f"--area {value!r}: latitude/longitude out of range or radius not in (0, 500]"
        )
    return Location(lat, lon), radius


class Command(BaseCommand):
    help = "Create N drones based at random points of an area (existing drone ids are kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--drones", type=int, default=20)
        parser.add_argument("--area", default="47.6062,-122.3321,8", help='"lat,lon,radius_km"')
        parser.add_argument("--prefix", default="drone", help="drone id prefix")
        parser.add_argument("--if-empty", action="store_true", help="do nothing if drones exist")
        parser.add_argument("--seed", type=int, default=7, help="random seed of the positions")

    def handle(
        self,
        *args: Any,
        drones: int,
        area: str,
        prefix: str,
        if_empty: bool,
        seed: int,
        **options: Any,
    ) -> None:
        if not 1 <= drones <= MAX_DRONES:
            raise CommandError(f"--drones must be between 1 and {MAX_DRONES}, e.g. --drones 25")
        center, radius = parse_area(area)
        if if_empty and Drone.objects.exists():
            self.stdout.write(f"{Drone.objects.count()} drones already exist; not seeding.")
            return
        before = Drone.objects.count()
        fleet = build_drones(drones, center, radius, prefix, seed)
        done = 0
        while batch := list(islice(fleet, BATCH)):
            Drone.objects.bulk_create(batch, ignore_conflicts=True)
            done += len(batch)
            self._progress(done, drones)
        self.stdout.write("")
        created = Drone.objects.count() - before
        kept = f"; {drones - created} already existed and were kept" if created < drones else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"{created} drones created around {center.latitude},{center.longitude} "
                f"(r={radius} km){kept}."
            )
        )

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // total
        self.stdout.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} drones", ending=""
        )
        self.stdout.flush()
