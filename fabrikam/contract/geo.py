"""Locations and distances on the Earth's surface, shared by every context's contract."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

EARTH_RADIUS_KM = 6371.0088
KM_PER_MILE = 1.609344


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    altitude: float = 0.0

    def as_dict(self) -> dict[str, float]:
        # Spelled out: dataclasses.asdict deep-copies field by field, a few µs per call on every
        # request that echoes or queues a location.
        return {"latitude": self.latitude, "longitude": self.longitude, "altitude": self.altitude}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Location:
        return cls(
            float(data["latitude"]), float(data["longitude"]), float(data.get("altitude", 0))
        )


def distance_km(a: Location, b: Location) -> float:
    """Great-circle (haversine) distance, ignoring altitude."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def interpolate(a: Location, b: Location, fraction: float) -> Location:
    """The point `fraction` of the way from a to b (a straight line is close enough for a drone's
    few-kilometre hops)."""
    f = min(1.0, max(0.0, fraction))
    return Location(
        a.latitude + (b.latitude - a.latitude) * f,
        a.longitude + (b.longitude - a.longitude) * f,
        a.altitude + (b.altitude - a.altitude) * f,
    )
