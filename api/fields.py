"""Field types shared by the API's schemas."""

from __future__ import annotations

import marshmallow as ma

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


class StationRefSchema(Schema):
    """The short reference to a station that other answers carry."""

    code = ma.fields.String()
    name = ma.fields.String()
    timezone = ma.fields.String(metadata={
        "description": "IANA time zone (e.g. Asia/Shanghai): the station's times, schedules and "
                       "texts are in it"})


class NotificationCode(ma.fields.String):
    """A notification code: the document lists every code of the deployment's catalogue."""


class TargetField(ma.fields.Dict):
    """What the app opens for a notification: ``{"kind", "station", "<thing>_id": int...}``;
    the document lists the kinds of the deployment's catalogue."""
