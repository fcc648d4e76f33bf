"""Building a fleet of drones spread over an area (seed data for demos, tests and benchmarks)."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from fabrikam.apps.dronescheduler.models import Drone, PackageSize
from fabrikam.contract.geo import EARTH_RADIUS_KM, Location

MODELS = (
    # model, max payload kg, max package size, speed km/h, range km
    ("Fabrikam Sparrow", 2.5, PackageSize.SMALL, 70, 25),
    ("Fabrikam Kestrel", 5.0, PackageSize.MEDIUM, 60, 35),
    ("Fabrikam Heron", 12.0, PackageSize.LARGE, 45, 30),
)


def random_point(center: Location, radius_km: float, rng: random.Random) -> Location:
    """A point uniformly distributed in the disc of `radius_km` around `center`."""
    distance = radius_km * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    d_lat = math.degrees(distance * math.cos(bearing) / EARTH_RADIUS_KM)
    d_lon = math.degrees(
        distance * math.sin(bearing) / (EARTH_RADIUS_KM * math.cos(math.radians(center.latitude)))
    )
    return Location(round(center.latitude + d_lat, 6), round(center.longitude + d_lon, 6))


def build_drones(
    count: int, center: Location, radius_km: float, prefix: str = "drone", seed: int = 7
) -> Iterator[Drone]:
    rng = random.Random(seed)
    for number in range(1, count + 1):
        model, payload, size, speed, range_km = MODELS[number % len(MODELS)]
        home = random_point(center, radius_km, rng)
        yield Drone(
            id=f"{prefix}-{number:05d}",
            model=model,
            latitude=home.latitude,
            longitude=home.longitude,
            home_latitude=home.latitude,
            home_longitude=home.longitude,
            battery=100.0,
            range_km=range_km,
            max_payload_kg=payload,
            max_package_size=size,
            speed_kmh=speed,
        )
