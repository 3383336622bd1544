"""Distances on the WGS84 sphere, and the geofence rule of ENGINEERING.md."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8
# A poor fix may widen the fence, but never by more than this.
ACCURACY_ALLOWANCE_CAP_M = 50.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def inside(distance: float, accuracy_m: float, radius_m: float) -> bool:
    """Inside when ``distance - min(accuracy, 50 m) <= radius``."""
    return distance - min(accuracy_m, ACCURACY_ALLOWANCE_CAP_M) <= radius_m
