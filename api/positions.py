"""Positions in and out of the API: the datum (``crs``) they are in, converted by core.datum."""

from __future__ import annotations

from typing import Any, ClassVar

import marshmallow as ma
from flask import g, has_request_context, request

from api.smorest import Schema
from core import datum
from core.errors import Invalid

CRS_IN = ("The datum of this object's positions: `wgs84` (GPS), `gcj02` (AMap, Tencent), "
          "`bd09` (Baidu). Left out: the station's `default_crs`, else wgs84. The server "
          "stores and answers WGS-84 (see `crs` in answers).")
CRS_OUT = ("In answers: the datum of the positions given, always `wgs84` unless a GET asked "
           "for another with `?crs=`.")
LAT = ma.validate.Range(min=-90, max=90)
LON = ma.validate.Range(min=-180, max=180)


def Lat(**kwargs: Any) -> ma.fields.Float:  # noqa: N802
    """A latitude in degrees, in the datum its object's ``crs`` names."""
    return ma.fields.Float(validate=LAT, **kwargs)


def Lon(**kwargs: Any) -> ma.fields.Float:  # noqa: N802
    """A longitude in degrees, in the datum its object's ``crs`` names."""
    return ma.fields.Float(validate=LON, **kwargs)


def _crs_value(value: Any) -> datum.Crs:
    if value not in datum.CRS:
        raise Invalid("crs_unknown", field="crs", crs=str(value)[:20], allowed=list(datum.CRS))
    return value  # type: ignore[no-any-return]


class CrsField(ma.fields.String):
    """``wgs84``, ``gcj02`` or ``bd09``; anything else is 422 ``crs_unknown`` (not a field error,
    so a phone can tell a datum it does not support from a typo elsewhere)."""

    def __init__(self, *, description: str = f"{CRS_IN} {CRS_OUT}", **kwargs: Any) -> None:
        super().__init__(metadata={"enum": list(datum.CRS), "description": description},
                         **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return _crs_value(super()._deserialize(value, attr, data, **kwargs))


def station_default_crs() -> datum.Crs:
    """The datum of a request's positions that do not say: the station's default, else WGS-84."""
    code = (request.view_args or {}).get("station") if has_request_context() else None
    if not code:
        return datum.DEFAULT
    from api.auth import actor  # the actor is cached for the request; the view needs it anyway

    return datum.station_default(actor(code).station.settings)


def output_crs() -> datum.Crs:
    """The datum answers give positions in: what a GET asked with ``?crs=``, else WGS-84."""
    if not has_request_context() or request.method != "GET":
        return datum.WGS84
    if "output_crs" not in g:
        g.output_crs = _crs_value(request.args.get("crs", datum.WGS84))
    return g.output_crs  # type: ignore[no-any-return]


class Positioned(Schema):
    """A schema whose object holds positions, with the ``crs`` they are in.

    Loading converts them to WGS-84 from the request's ``crs`` (else the station's default) and
    drops ``crs``; dumping gives them in :func:`output_crs` and says which. ``POSITIONS`` names
    the (lat, lon) field pairs, ``OUTLINES`` the fields holding lists of [lat, lon].
    """

    POSITIONS: ClassVar[tuple[tuple[str, str], ...]] = (("lat", "lon"),)
    OUTLINES: ClassVar[tuple[str, ...]] = ()

    crs = CrsField()

    @ma.post_load
    def _positions_to_wgs84(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        crs = data.pop("crs", None)
        given = [(lat_key, lon_key) for lat_key, lon_key in self.POSITIONS
                 if data.get(lat_key) is not None or data.get(lon_key) is not None]
        outlines = [key for key in self.OUTLINES if data.get(key)]
        if not given and not outlines:
            return data
        crs = crs or station_default_crs()
        if crs == datum.WGS84:
            return data
        for lat_key, lon_key in given:
            lat, lon = data.get(lat_key), data.get(lon_key)
            if lat is None or lon is None:
                # One coordinate alone cannot be moved to another datum.
                raise Invalid("position_incomplete", field=lat_key if lat is None else lon_key)
            data[lat_key], data[lon_key] = datum.to_wgs84(crs, lat, lon)
        for key in outlines:
            data[key] = [list(datum.to_wgs84(crs, point[0], point[1])) for point in data[key]]
        return data

    @ma.post_dump
    def _positions_from_wgs84(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        keys = {key for pair in self.POSITIONS for key in pair} | set(self.OUTLINES)
        if not keys & set(data):
            return data  # a view without positions (a visitor's) says nothing about a datum
        crs = output_crs()
        if crs != datum.WGS84:
            for lat_key, lon_key in self.POSITIONS:
                lat, lon = data.get(lat_key), data.get(lon_key)
                if lat is not None and lon is not None:
                    data[lat_key], data[lon_key] = datum.from_wgs84(crs, lat, lon)
            for key in self.OUTLINES:
                if data.get(key):
                    data[key] = [list(datum.from_wgs84(crs, p[0], p[1])) for p in data[key]]
        data["crs"] = crs
        return data


class CrsArgsSchema(Schema):
    """``?crs=`` on a GET whose answer holds positions."""

    crs = CrsField(description="The datum to give positions in (default wgs84); the answer's "
                               "`crs` says which it is")


def holds_positions(schema: Any, seen: set[int] | None = None) -> bool:
    """Whether a schema (or one nested in it, at any depth) is :class:`Positioned`."""
    if isinstance(schema, type):
        schema = schema()
    if not isinstance(schema, ma.Schema):
        return False
    if isinstance(schema, Positioned):
        return True
    seen = seen if seen is not None else set()
    if id(schema) in seen:
        return False
    seen.add(id(schema))
    for field in schema.fields.values():
        while isinstance(field, ma.fields.List):
            field = field.inner
        if isinstance(field, ma.fields.Nested) and holds_positions(field.schema, seen):
            return True
    return False
