"""The sample plugin's delivery provider: renders each notification into a table (no network)."""

from __future__ import annotations

from sqlalchemy import orm as so

from core import messages
from core.hookspecs import Delivery
from core.models import Notification, User
from tests.sample_plugin.models import SampleDelivery


def deliver(session: so.Session, notifications: list[Notification]) -> list[Delivery]:
    for row in notifications:
        user = session.get(User, row.user_id)
        text = messages.render(row.code, user.locale if user else None, row.params)
        session.add(SampleDelivery(station_id=row.station_id, notification_id=row.id,
                                   text=text[:500]))
    return [Delivery("sent") for _ in notifications]
