"""Maps on console pages: the deployment's tiles, and positions in the datum they are drawn in."""

from __future__ import annotations

import importlib
from typing import Any

from flask import current_app


def settings() -> dict[str, Any]:
    """What a page's map needs: tile URL (empty: a plain scaled grid), datum, attribution."""
    config = current_app.config
    return {"tiles": config.get("MAP_TILE_URL", ""), "datum": config.get("MAP_TILE_DATUM", "wgs84"),
            "attribution": config.get("MAP_ATTRIBUTION", "")}


def for_display(lat: float, lon: float) -> tuple[float, float]:
    """A stored WGS-84 position where the deployment's tiles draw it (GCJ-02 for AMap...)."""
    datum = settings()["datum"]
    if datum == "wgs84":
        return lat, lon
    shown = _datums().from_wgs84(datum, lat, lon)
    return float(shown[0]), float(shown[1])


def _datums() -> Any:
    """The core's one conversion between datums (WGS-84, GCJ-02, BD-09)."""
    return importlib.import_module("core.datum")
