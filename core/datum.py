"""Map datums of mainland China: positions in WGS-84, GCJ-02 or BD-09 to and from WGS-84.

Phones in China report positions in the datum of their map SDK: AMap and Tencent in GCJ-02
(the state's obfuscated datum), Baidu in BD-09 (a further shift of GCJ-02), GPS and most
others in WGS-84. Wardens stores WGS-84 only; the API converts once, on the way in (and out,
when a client asks for another datum), through the two functions here.

Written here rather than taken from PyPI: the transform is some forty lines of published
arithmetic that has not changed since 2008, and the packages that carry it are either
unmaintained single files (eviltransform 2018, prcoords 2019) or a compiled build with
tooling inside the package (coordtransform); none offers more than this module does, and each
would be one more dependency to audit. The formulas follow those implementations: the
forward GCJ-02 shift on the Krasovsky ellipsoid, Baidu's polar shift for BD-09, and the
inverses solved by fixed-point iteration (the shift varies slowly, so a few steps reach
millimetres), so a position converted there and back lands within a millimetre of itself.
Outside the rough box of China the shift is not applied: there GCJ-02 and BD-09 are WGS-84,
as the SDKs report them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

Crs = Literal["wgs84", "gcj02", "bd09"]
WGS84: Crs = "wgs84"
CRS: tuple[Crs, ...] = ("wgs84", "gcj02", "bd09")
DEFAULT: Crs = WGS84

# The Krasovsky 1940 ellipsoid that GCJ-02's shift is computed on.
_A = 6378245.0
_EE = 0.00669342162296594323
_BD_X_PI = math.pi * 3000.0 / 180.0
# Fixed-point iteration for the inverses: stop below ~0.1 mm, never loop for long.
_TOLERANCE_DEG = 1e-9
_MAX_STEPS = 30

Position = tuple[float, float]  # (lat, lon) in degrees


def in_china(lat: float, lon: float) -> bool:
    """The rough box (as the reference implementations use) inside which the shift applies."""
    return 0.8293 <= lat <= 55.8271 and 72.004 <= lon <= 137.8347


def _shift_m(x: float, y: float) -> Position:
    """GCJ-02's shift in metres-like units for (x = lon - 105, y = lat - 35)."""
    waves = 20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
            + (waves + 20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)
               + 160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0))
            * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
            + (waves + 20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)
               + 150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi))
            * 2.0 / 3.0)
    return dlat, dlon


def _wgs84_to_gcj02(lat: float, lon: float) -> Position:
    dlat, dlon = _shift_m(lon - 105.0, lat - 35.0)
    rad = math.radians(lat)
    magic = 1.0 - _EE * math.sin(rad) ** 2
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * math.sqrt(magic)) * math.pi)
    dlon = (dlon * 180.0) / (_A / math.sqrt(magic) * math.cos(rad) * math.pi)
    return lat + dlat, lon + dlon


def _gcj02_to_bd09(lat: float, lon: float) -> Position:
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _BD_X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _BD_X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def _invert(forward: Callable[[float, float], Position], lat: float, lon: float) -> Position:
    """The position that ``forward`` maps onto (lat, lon): start there, step back by the miss."""
    guess_lat, guess_lon = lat, lon
    for _ in range(_MAX_STEPS):
        got_lat, got_lon = forward(guess_lat, guess_lon)
        miss_lat, miss_lon = got_lat - lat, got_lon - lon
        guess_lat, guess_lon = guess_lat - miss_lat, guess_lon - miss_lon
        if abs(miss_lat) < _TOLERANCE_DEG and abs(miss_lon) < _TOLERANCE_DEG:
            break
    return guess_lat, guess_lon


def to_wgs84(crs: str, lat: float, lon: float) -> Position:
    """A position given in ``crs`` ("wgs84", "gcj02" or "bd09"), in WGS-84."""
    if crs == WGS84 or not in_china(lat, lon):
        return lat, lon
    if crs == "bd09":
        lat, lon = _invert(_gcj02_to_bd09, lat, lon)
    elif crs != "gcj02":
        raise ValueError(f"unknown crs {crs!r}")
    return _invert(_wgs84_to_gcj02, lat, lon)


def from_wgs84(crs: str, lat: float, lon: float) -> Position:
    """A WGS-84 position in ``crs`` ("wgs84", "gcj02" or "bd09")."""
    if crs == WGS84 or not in_china(lat, lon):
        return lat, lon
    if crs not in CRS:
        raise ValueError(f"unknown crs {crs!r}")
    lat, lon = _wgs84_to_gcj02(lat, lon)
    return _gcj02_to_bd09(lat, lon) if crs == "bd09" else (lat, lon)


def station_default(settings: dict[str, object] | None) -> Crs:
    """The datum a station's requests are in when they do not say (``settings["default_crs"]``)."""
    value = (settings or {}).get("default_crs")
    return value if value in CRS else DEFAULT  # type: ignore[return-value]
