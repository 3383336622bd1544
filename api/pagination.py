"""Pagination of SQL queries: LIMIT/OFFSET plus a count, headers by flask-smorest."""

from __future__ import annotations

from typing import Any

import flask_smorest
import sqlalchemy as sa

from api.unit_of_work import db


class QueryPage(flask_smorest.Page):
    """Pages a ``select``; one-entity selects yield objects, others yield rows."""

    @property
    def items(self) -> list[Any]:
        query = self.collection.limit(self.page_params.page_size).offset(
            self.page_params.first_item
        )
        if len(self.collection.column_descriptions) == 1:
            return list(db().scalars(query).all())
        return list(db().execute(query).all())

    @property
    def item_count(self) -> int:
        count = sa.select(sa.func.count()).select_from(self.collection.order_by(None).subquery())
        return int(db().scalar(count) or 0)

