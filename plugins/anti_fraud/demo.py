"""The anti-fraud demo: the starter bank, a quiz that rewards a coupon, two shops with offers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import orm as so

from core import clock
from core.models import GroupMember, Station, User
from core.models.stations import Group
from plugins.anti_fraud import bank
from plugins.anti_fraud.models import DiscountKind, Offer, Quiz, Shop


def seed(session: so.Session, station: Station, people: dict[str, User]) -> None:
    """Fictitious shops and offers; the merchant demo login works the till of the first."""
    now = clock.now()
    bank.load_starter_bank(session, station.id, ("zh-CN", "en"), role="demo")
    corner = _shop(session, station, "平安便利店（示范）", "示范路 12 号", 30.2741, 120.1551)
    bakery = _shop(session, station, "邻里面包坊（示范）", "示范路 20 号", 30.2745, 120.1560)
    if "merchant" in people:
        session.add(GroupMember(station_id=station.id, group_id=corner.group_id,
                                user_id=people["merchant"].id, is_leader=True))
    until = now + dt.timedelta(days=180)
    reward = Offer(station_id=station.id, shop_id=corner.id, title="答题奖励：饮品立减 3 元",
                   kind=DiscountKind.AMOUNT, amount_off_cents=300, min_spend_cents=0,
                   points_cost=None, stock_total=200, stock_left=200, per_resident_limit=1,
                   valid_from=now, valid_until=until, coupon_days=14)
    session.add_all([
        reward,
        Offer(station_id=station.id, shop_id=corner.id, title="满 30 元减 5 元",
              kind=DiscountKind.AMOUNT, amount_off_cents=500, min_spend_cents=3000, points_cost=50,
              stock_total=100, stock_left=100, per_resident_limit=2, valid_from=now,
              valid_until=until, coupon_days=30),
        Offer(station_id=station.id, shop_id=bakery.id, title="面包 9 折", kind=DiscountKind.PERCENT,
              percent_off=10, min_spend_cents=0, points_cost=30, stock_total=50, stock_left=50,
              per_resident_limit=1, valid_from=now, valid_until=until, coupon_days=30),
    ])
    session.flush()
    session.add_all([
        Quiz(station_id=station.id, title="防诈骗知识入门", locale="zh-CN", categories=[],
             description="五道题，答对四道即可通过，首次通过得积分和饮品立减券。",
             question_count=5, pass_percent=80, time_limit_s=600, attempts_per_day=3,
             points=20, reward_offer_id=reward.id),
        Quiz(station_id=station.id, title="Spot the scam (English)", locale="en", categories=[],
             description="Five questions; four right to pass.", question_count=5,
             pass_percent=80, time_limit_s=600, attempts_per_day=3, points=20),
    ])
    session.flush()


def _shop(session: so.Session, station: Station, name: str, address: str, lat: float,
          lon: float) -> Shop:
    group = Group(station_id=station.id, kind="shop", name=name, description=address)
    session.add(group)
    session.flush()
    shop = Shop(station_id=station.id, name=name, address=address, lat=lat, lon=lon,
                group_id=group.id)
    session.add(shop)
    session.flush()
    return shop
