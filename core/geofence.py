"""Geofences: great-circle distance and the inside/accuracy rule of ENGINEERING.md."""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa

from core.errors import Invalid

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
# A poor fix widens the fence by its accuracy, but never by more than this.
MAX_ACCURACY_CREDIT_M = 50.0

# Station.settings["tasks"]: the check-in knobs a station may change (data, not code).
DEFAULTS: dict[str, Any] = {
    "accuracy_limit_m": 100,  # a fix worse than this is refused (position_inaccurate)
    "checkin_opens_minutes": 15,  # check-in opens this long before a task's window
    "checkout_grace_minutes": 60,  # check-out stays open this long after the window
    "max_offline_minutes": 720,  # a device time uploaded later than this is refused
    "device_clock_ahead_seconds": 300,  # a device time further ahead of the server is refused
    "refuse_mock_locations": False,  # mock locations are always recorded; refused if True
    "no_show_grace_minutes": 30,  # still signed up this long after the window: a no-show
    "position_retention_days": 180,  # positions (check-ins, scans, visits...) cleared after this
}


def station_rules(settings: dict[str, Any] | None) -> dict[str, Any]:
    """The station's check-in rules: its ``settings["tasks"]`` over :data:`DEFAULTS`."""
    own = (settings or {}).get("tasks") or {}
    return {**DEFAULTS, **{k: v for k, v in own.items() if k in DEFAULTS}}


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in metres between two WGS84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def is_inside(distance: float, radius_m: float, accuracy_m: float) -> bool:
    """Inside when ``distance - min(accuracy, 50 m) <= radius``."""
    return distance - min(accuracy_m, MAX_ACCURACY_CREDIT_M) <= radius_m


def check_position(*, centre: tuple[float, float] | None, radius_m: float, lat: float,
                   lon: float, accuracy_m: float, accuracy_limit_m: float) -> float | None:
    """Judge a reported position against a fence; return the distance (None without a centre).

    422 ``position_inaccurate`` when the fix is worse than the station's limit, 422
    ``outside_geofence`` (with the distance and the radius) when it is outside.
    """
    if accuracy_m > accuracy_limit_m:
        raise Invalid("position_inaccurate", field="accuracy_m", accuracy_m=round(accuracy_m),
                      limit_m=accuracy_limit_m)
    if centre is None:
        return None
    distance = distance_m(centre[0], centre[1], lat, lon)
    if not is_inside(distance, radius_m, accuracy_m):
        raise Invalid("outside_geofence", distance_m=round(distance), radius_m=radius_m,
                      accuracy_m=round(accuracy_m))
    return distance


def within(lat_column: Any, lon_column: Any, lat: float, lon: float, radius_m: float) -> Any:
    """SQL: the row's position lies within ``radius_m`` of (lat, lon), on both databases.

    An equirectangular distance (plain arithmetic: SQLite has no trigonometry): off by well
    under 1% within 50 km, which a "near me" list needs; a fence is judged by
    :func:`distance_m`. A row without a position is never near.
    """
    metres_per_degree = math.pi * EARTH_RADIUS_M / 180
    dy = (lat_column - lat) * metres_per_degree
    dx = (lon_column - lon) * (metres_per_degree * math.cos(math.radians(lat)))
    box = radius_m / metres_per_degree
    return sa.and_(lat_column.is_not(None), lon_column.is_not(None),
                   lat_column.between(lat - box, lat + box),  # cheap first, before the products
                   dx * dx + dy * dy <= radius_m * radius_m)
