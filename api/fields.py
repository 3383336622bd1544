"""Field types shared by the API's schemas."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.positions import CrsField, Lat, Lon, Positioned
from api.smorest import Schema


def Text(*, max_length: int = 200, required: bool = False, **kwargs: object) -> ma.fields.String:  # noqa: N802
    """A trimmed-length string; NUL characters are refused earlier, for the whole request."""
    return ma.fields.String(required=required, validate=ma.validate.Length(max=max_length),
                            **kwargs)  # type: ignore[arg-type]


def Name(*, max_length: int = 120, required: bool = False, **kwargs: object) -> ma.fields.String:  # noqa: N802
    return ma.fields.String(required=required,
                            validate=ma.validate.Length(min=1, max=max_length),
                            **kwargs)  # type: ignore[arg-type]


PHONE_PATTERN = r"^[+(0-9][0-9 ()+.-]{4,31}$"
PHONE = ma.validate.Regexp(PHONE_PATTERN, error="Not a phone number.")


def Phone(*, required: bool = False, **kwargs: object) -> ma.fields.String:  # noqa: N802
    """A phone number as people write it (+86 138 0000 0001, 0086..., 138-...): the server
    normalises it to E.164, so an invalid number still answers 422 invalid_phone."""
    return ma.fields.String(required=required, validate=PHONE, **kwargs)  # type: ignore[arg-type]


class TimeRangeArgsSchema(Schema):
    """?since=&until= on lists that grow with time (ISO 8601 with a zone)."""

    since = ma.fields.AwareDateTime()
    until = ma.fields.AwareDateTime()


class NearArgsSchema(Positioned):
    """?lat=&lon=&radius_m= on lists of things with a place: only those that close.

    The point is in ``?crs=`` (which also asks for the answer's datum), else in the station's
    default datum.
    """

    crs = CrsField(description="The datum of `lat`/`lon` here and of the positions in the "
                               "answer; left out, `lat`/`lon` are in the station's "
                               "`default_crs` and the answer in wgs84")
    lat = Lat(metadata={"description": "With lon: only those near this point (degrees, in "
                                       "`crs`, else the station's `default_crs`)"})
    lon = Lon()
    radius_m = ma.fields.Integer(validate=ma.validate.Range(min=1, max=50_000), metadata={
        "description": "How near, in metres (default 2000)"})

    @ma.validates_schema
    def _both(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("lat" in data) != ("lon" in data):
            missing = "lon" if "lat" in data else "lat"
            raise ma.ValidationError(["Send lat and lon together."], field_name=missing)
        if "radius_m" in data and "lat" not in data:
            raise ma.ValidationError(["radius_m needs lat and lon."], field_name="radius_m")


NEAR_DEFAULT_M = 2000


def near_args(args: dict[str, Any]) -> dict[str, Any]:
    """The list's arguments with lat/lon/radius_m folded into ``near`` (lat, lon, metres)."""
    args = dict(args)
    lat, lon, radius = args.pop("lat", None), args.pop("lon", None), args.pop("radius_m", None)
    if lat is not None and lon is not None:
        args["near"] = (lat, lon, radius or NEAR_DEFAULT_M)
    return args


class StationRefSchema(Schema):
    """The short reference to a station that other answers carry."""

    code = ma.fields.String()
    name = ma.fields.String()
    timezone = ma.fields.String(metadata={
        "description": "The station's IANA time zone (Asia/Shanghai): local times are in it"})


def renamed(field: ma.fields.Field, *, to: str) -> ma.fields.Field:
    """A field's old name, kept for one release after a rename to ``to``.

    The document marks it ``deprecated`` and names ``to`` (``x-renamed-to``). Read from a
    request, it loads into ``to`` and the answer carries ``Deprecation`` (RFC 9745; see
    ``api.smorest.deprecation_header``); written into an answer, it carries the same value
    as ``to`` until it goes.
    """
    field.metadata = {**field.metadata, "deprecated": True, "x-renamed-to": to,
                      "description": f"Deprecated: use `{to}`, which carries the same value."}
    return field


class TargetSchema(Schema):
    """What the phone opens: a screen (``kind``) and the records it shows (``<name>_id``).

    Kinds are ``<plugin>.<noun>`` (the core's ``core.task``, ``core.notifications``,
    ``core.group``; ``crossing_guard.shift``, ``patrol.patrol``... listed in each plugin's
    README); a plugin may name ids of its own besides those below, always integers ending
    in ``_id``. Built with ``core.targets.target``.
    """

    class Meta:
        unknown = ma.INCLUDE  # a plugin's own <name>_id: documented as additional properties
        ordered = True

    kind = ma.fields.String(required=True, metadata={"description": "<plugin>.<noun>",
                                                     "example": "crossing_guard.shift"})
    station = ma.fields.String(metadata={"description": "The station's code, when the record "
                                                        "lives in one"})
    task_id = ma.fields.Integer()
    shift_id = ma.fields.Integer()
    patrol_id = ma.fields.Integer()
    route_id = ma.fields.Integer()
    checkpoint_id = ma.fields.Integer()
    visit_id = ma.fields.Integer()
    quiz_id = ma.fields.Integer()
    coupon_id = ma.fields.Integer()
    offer_id = ma.fields.Integer()
    incident_id = ma.fields.Integer()
    group_id = ma.fields.Integer()
    notification_id = ma.fields.Integer()

    @ma.post_dump(pass_original=True)
    def _plugin_ids(self, data: dict[str, Any], original: Any, **_kwargs: Any) -> dict[str, Any]:
        if isinstance(original, dict):
            for key, value in original.items():
                if key.endswith("_id") and key not in data and isinstance(value, int):
                    data[key] = value
        return data


class NotificationCode(ma.fields.String):
    """A notification code: the document lists every code of the deployment's catalogue."""
