"""Pagination of SQL queries: pages by number (LIMIT/OFFSET and a count, flask-smorest's
X-Pagination) or, for long lists, by an opaque cursor (keyset: no count, no OFFSET, so the
thousandth page costs what the first does)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from typing import Any

import flask_smorest
import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import pagination as smorest_pagination

from api.unit_of_work import db

#: Response header with the cursor of the next page (absent on the last page).
NEXT_CURSOR_HEADER = "X-Next-Cursor"
NEXT_CURSOR_DOC = {
    "description": "The next page's cursor: send it back as `cursor` for the page after this"
                   " one (sent while more may follow; absent on the last page). Opaque.",
    "schema": {"type": "string"},
}
NOT_THIS_LIST = "Not a cursor of this list: start again without one."


def _encode(signature: str, values: list[Any]) -> str:
    plain = [{"d": v.isoformat()} if isinstance(v, dt.datetime) else v for v in values]
    raw = json.dumps([signature, plain], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[str, list[Any]]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        signature, plain = json.loads(raw)
        values = [dt.datetime.fromisoformat(v["d"]) if isinstance(v, dict) else v
                  for v in plain]
    except (ValueError, TypeError, KeyError):
        raise ma.ValidationError(NOT_THIS_LIST) from None
    if not isinstance(signature, str):
        raise ma.ValidationError(NOT_THIS_LIST)
    return signature, values


class CursorField(ma.fields.String):
    """An opaque cursor, decoded on loading (a mangled one is a 422 on ``cursor``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        return _decode(text) if text else None


def _parameters_schema(def_page: int, def_page_size: int, def_max_page_size: int) -> type:
    """flask-smorest's page and page_size, and ``cursor``."""

    class PaginationParametersSchema(ma.Schema):
        class Meta:
            unknown = ma.EXCLUDE

        page = ma.fields.Integer(load_default=def_page, validate=ma.validate.Range(min=1))
        page_size = ma.fields.Integer(load_default=def_page_size,
                                      validate=ma.validate.Range(min=1, max=def_max_page_size))
        cursor = CursorField(load_default=None, metadata={"description": (
            "Instead of `page`: the `X-Next-Cursor` of the previous answer. Pages by cursor"
            " cost the same however deep, and carry no X-Pagination total.")})

        @ma.post_load
        def make_paginator(self, data: dict[str, Any], **kwargs: Any) -> Any:
            params = smorest_pagination.PaginationParameters(data["page"], data["page_size"])
            params.cursor = data["cursor"]  # type: ignore[attr-defined]
            params.next_cursor = None  # type: ignore[attr-defined]
            return params

    return PaginationParametersSchema


# flask-smorest builds each paginated operation's parameters with this factory.
smorest_pagination._pagination_parameters_schema_factory = _parameters_schema  # type: ignore[attr-defined]


class QueryPage(flask_smorest.Page):
    """Pages a ``select``; one-entity selects yield objects, others yield rows.

    By number: LIMIT/OFFSET and a COUNT for X-Pagination (what phone clients have read since
    1.0). By cursor: the rows after the cursor's sort key, read from the list's ORDER BY (the
    first entity's primary key added as the tie-breaker); no count.
    """

    def __init__(self, collection: Any, page_params: Any) -> None:
        self.collection = collection
        self.page_params = page_params
        self._keys = self._sort_keys()
        self._signature = hashlib.sha256(
            "|".join(f"{c}{' desc' if d else ''}" for c, d in self._keys).encode()
        ).hexdigest()[:12]
        if getattr(page_params, "cursor", None) is None:
            page_params.item_count = self.item_count
        else:
            page_params.item_count = -1  # no count: _set_pagination_metadata sends none

    def _sort_keys(self) -> list[tuple[Any, bool]]:
        keys: list[tuple[Any, bool]] = []
        for clause in self.collection._order_by_clauses:
            descending = getattr(clause, "modifier", None) is sa.sql.operators.desc_op
            column = clause.element if hasattr(clause, "modifier") and clause.modifier else clause
            keys.append((column, descending))
        entity = self.collection.column_descriptions[0].get("entity")
        if entity is None:
            return []  # no tie-breaker known: pages by number only
        for pk in sa.inspect(entity).primary_key:
            if not any(column is pk for column, _d in keys):
                keys.append((pk, bool(keys and keys[-1][1])))
        return keys

    @property
    def items(self) -> list[Any]:
        size = self.page_params.page_size
        cursor = getattr(self.page_params, "cursor", None)
        if cursor is None:
            query = self.collection.limit(size).offset(self.page_params.first_item)
            found = self._fetch(query)
            if len(found) == size:
                self._remember_next(found[-1])
            return found
        signature, values = cursor
        if signature != self._signature or len(values) != len(self._keys):
            flask_smorest.abort(422, messages={"query": {"cursor": [NOT_THIS_LIST]}})
        found = self._fetch(self.collection.where(self._after(values)).limit(size + 1))
        if len(found) > size:
            found = found[:size]
            self._remember_next(found[-1])
        return found

    def _fetch(self, query: Any) -> list[Any]:
        if len(self.collection.column_descriptions) == 1:
            return list(db().scalars(query).all())
        return list(db().execute(query).all())

    def _after(self, values: list[Any]) -> Any:
        """Rows after ``values`` in the list's order: (a > x) or (a = x and b > y) ..."""
        either = []
        for index, (column, descending) in enumerate(self._keys):
            same = [c == v for (c, _d), v in zip(self._keys[:index], values, strict=False)]
            beyond = column < values[index] if descending else column > values[index]
            either.append(sa.and_(*same, beyond))
        return sa.or_(*either)

    def _remember_next(self, last: Any) -> None:
        if not self._keys:
            return
        values = []
        mapping = getattr(last, "_mapping", None)
        # A row's sort keys are its own columns, or attributes of its first entity.
        first = last[0] if mapping is not None else last
        for column, _descending in self._keys:
            value = mapping.get(column) if mapping is not None else None
            if value is None:
                value = getattr(first, column.key, None)
            if value is None:
                return  # a NULL sort key has no "after": this list pages by number
            values.append(value)
        self.page_params.next_cursor = _encode(self._signature, values)

    @property
    def item_count(self) -> int:
        count = sa.select(sa.func.count()).select_from(self.collection.order_by(None).subquery())
        return int(db().scalar(count) or 0)
