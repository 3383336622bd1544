"""core.datum against published reference pairs, and round trips within a metre."""

from __future__ import annotations

import itertools

import pytest

from core import datum
from core.geofence import distance_m

# (WGS-84 lat, lon), (GCJ-02 lat, lon): the reference pairs of the eviltransform test suite,
# https://github.com/googollee/eviltransform/blob/master/python/test.py (TESTS).
EVILTRANSFORM_WGS_GCJ = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]
# The results printed in the coordtransform test, for the input (lon 116.404, lat 39.915):
# https://github.com/wandergis/coordtransform/blob/master/test/app.js (lon, lat there).
COORDTRANSFORM_INPUT = (39.915, 116.404)
COORDTRANSFORM = {
    "wgs84togcj02": (39.91640428150164, 116.41024449916938),
    "gcj02tobd09": (39.92133699351021, 116.41036949371029),
    "bd09togcj02": (39.90865673957631, 116.39762729119315),
}
METRE = 1.0


def off_by(a: tuple[float, float], b: tuple[float, float]) -> float:
    return distance_m(a[0], a[1], b[0], b[1])


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_WGS_GCJ)
def test_wgs84_to_gcj02_matches_the_published_pairs(wgs, gcj):
    assert off_by(datum.from_wgs84("gcj02", *wgs), gcj) < METRE


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_WGS_GCJ)
def test_gcj02_to_wgs84_finds_the_published_origin_within_a_metre(wgs, gcj):
    assert off_by(datum.to_wgs84("gcj02", *gcj), wgs) < METRE


def test_the_coordtransform_results_for_beijing():
    """Forward to GCJ-02 and BD-09 as coordtransform prints them; BD-09 back to the same place."""
    point = COORDTRANSFORM_INPUT
    assert off_by(datum.from_wgs84("gcj02", *point), COORDTRANSFORM["wgs84togcj02"]) < METRE
    # GCJ-02 -> BD-09 is the same step as WGS-84 -> BD-09 after the GCJ-02 shift
    gcj_of = datum.to_wgs84("gcj02", *point)
    assert off_by(datum.from_wgs84("bd09", *gcj_of), COORDTRANSFORM["gcj02tobd09"]) < METRE
    # BD-09 -> GCJ-02: both land on the same WGS-84 place
    assert off_by(datum.to_wgs84("bd09", *point),
                  datum.to_wgs84("gcj02", *COORDTRANSFORM["bd09togcj02"])) < METRE


CHINA_GRID = list(itertools.product([18.3, 22.5, 30.27, 31.2, 34.3, 39.9, 45.8, 53.0],
                                    [75.9, 87.6, 104.1, 113.9, 120.16, 121.5, 126.6, 134.0]))


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_round_trips_across_china_land_within_a_metre(crs):
    for point in CHINA_GRID:
        there = datum.from_wgs84(crs, *point)
        assert off_by(there, point) > 50  # the shift is real (hundreds of metres) ...
        assert off_by(datum.to_wgs84(crs, *there), point) < METRE  # ... and undone


def test_outside_china_every_datum_is_wgs84():
    for point in [(48.8584, 2.2945), (40.6892, -74.0445), (-33.8568, 151.2153), (0.0, 0.0)]:
        for crs in datum.CRS:
            assert datum.from_wgs84(crs, *point) == point
            assert datum.to_wgs84(crs, *point) == point


def test_wgs84_is_left_exactly_as_given():
    assert datum.to_wgs84("wgs84", 30.2741, 120.1551) == (30.2741, 120.1551)


def test_a_station_default_comes_from_its_settings():
    assert datum.station_default(None) == "wgs84"
    assert datum.station_default({"default_crs": "bd09"}) == "bd09"
    assert datum.station_default({"default_crs": "mars"}) == "wgs84"
