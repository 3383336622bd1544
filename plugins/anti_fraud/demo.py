"""The anti-fraud demo: the starter bank (the shops, offers and quizzes are in the demo file)."""

from __future__ import annotations

from sqlalchemy import orm as so

from core.models import Station, User
from plugins.anti_fraud import bank


def seed(session: so.Session, station: Station, people: dict[str, User]) -> None:
    """Both languages of the starter bank, whatever the plugin's settings load on switching on.

    examples/demo-station.toml sets up the shops (the merchant demo login works the till of
    the first), their offers and the quizzes.
    """
    bank.load_starter_bank(session, station.id, ("zh-CN", "en"), role="demo")
