"""Alliance shops (staffed through a ``shop`` group) and their offers."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import accounts, audit, clock, phones, stations
from core.access import Actor
from core.db import flush_or_conflict
from core.errors import Conflict, Invalid, NotFound, PermissionDenied
from core.models import GroupMember, Membership, User
from plugins.anti_fraud.models import DiscountKind, Offer, Shop

SHOP_GROUP_KIND = "shop"
PLUGIN = "anti_fraud"  # shop groups are this plugin's: its services change them


# Shops ----------------------------------------------------------------------------------------

def get_shop(session: so.Session, who: Actor, shop_id: int) -> Shop:
    shop = session.scalar(sa.select(Shop).where(Shop.id == shop_id, Shop.station_id == who.station.id))
    if shop is None:
        raise NotFound("shop_not_found")
    return shop


def shop_active(session: so.Session, shop_id: int) -> bool:
    return bool(session.scalar(sa.select(Shop.active).where(Shop.id == shop_id)))


def create_shop(session: so.Session, who: Actor, data: dict[str, Any]) -> Shop:
    """Add an alliance shop with its staff group: a new ``shop`` group, or a given one."""
    who.require("officer", "admin")
    data = dict(data)
    group_id = data.pop("group_id", None)
    if _name_taken(session, who.station.id, data["name"], None):
        raise Conflict("shop_name_taken", field="name", name=data["name"])
    if group_id is None:
        group = stations.create_group(session, who, kind=SHOP_GROUP_KIND, name=data["name"],
                                      description=data.get("address", ""), plugin=PLUGIN)
    else:
        group = stations.get_group(session, who, group_id)
        if group.kind != SHOP_GROUP_KIND:
            raise Invalid("shop_group_kind", field="group_id")
        if session.scalar(sa.select(Shop.id).where(Shop.group_id == group.id)) is not None:
            raise Conflict("shop_group_taken", field="group_id")
    shop = Shop(station_id=who.station.id, group_id=group.id, **data)
    session.add(shop)
    flush_or_conflict(session, None, "shop_name_taken", field="name", name=data["name"])
    audit.record(session, actor=who.user, role=who.role, action="anti_fraud.shop_created",
                 record=shop)
    return shop


def _name_taken(session: so.Session, station_id: int, name: str, but: int | None) -> bool:
    query = sa.select(Shop.id).where(Shop.station_id == station_id, Shop.name == name)
    if but is not None:
        query = query.where(Shop.id != but)
    return session.scalar(query) is not None


def update_shop(session: so.Session, who: Actor, shop_id: int, changes: dict[str, Any]) -> Shop:
    who.require("officer", "admin")
    shop = get_shop(session, who, shop_id)
    if "name" in changes and _name_taken(session, who.station.id, changes["name"], shop.id):
        raise Conflict("shop_name_taken", field="name", name=changes["name"])
    for name, value in changes.items():
        setattr(shop, name, value)
    audit.record(session, actor=who.user, role=who.role, action="anti_fraud.shop_updated",
                 record=shop, fields=sorted(changes))
    return shop


def shops_query(who: Actor, *, mine: bool = False,
                include_inactive: bool = False) -> sa.Select[Shop]:
    query = sa.select(Shop).where(Shop.station_id == who.station.id)
    if mine:
        query = query.where(Shop.group_id.in_(sa.select(GroupMember.group_id).where(
            GroupMember.station_id == who.station.id, GroupMember.user_id == who.user.id)))
    if not (include_inactive and who.has_any("officer", "admin")):
        query = query.where(Shop.active.is_(True))
    return query.order_by(Shop.name, Shop.id)


# Staff: the merchant members of the shop's group ----------------------------------------------

def is_staff(session: so.Session, who: Actor, shop: Shop) -> bool:
    if not (who.membership is not None and who.membership.has_any("merchant")):
        return False
    return session.scalar(sa.select(GroupMember.id).where(
        GroupMember.station_id == shop.station_id, GroupMember.group_id == shop.group_id,
        GroupMember.user_id == who.user.id)) is not None


def shop_for_staff_or_officer(session: so.Session, who: Actor, shop_id: int) -> Shop:
    """A shop whose staff and redemptions ``who`` may read: its own staff, and officers."""
    shop = get_shop(session, who, shop_id)
    if not (who.has_any("officer", "admin") or is_staff(session, who, shop)):
        raise PermissionDenied("not_shop_staff")
    return shop


def staff(session: so.Session, who: Actor, shop_id: int) -> list[dict[str, Any]]:
    shop = shop_for_staff_or_officer(session, who, shop_id)
    rows = session.execute(
        sa.select(GroupMember, User, Membership)
        .join(User, User.id == GroupMember.user_id)
        .join(Membership, sa.and_(Membership.station_id == GroupMember.station_id,
                                  Membership.user_id == GroupMember.user_id))
        .where(GroupMember.group_id == shop.group_id).order_by(GroupMember.id)).all()
    return [{"user_id": u.id, "display_name": u.display_name, "is_leader": m.is_leader,
             "merchant": "merchant" in ms.roles} for m, u, ms in rows]


def put_staff(session: so.Session, who: Actor, shop_id: int, user_id: int, leader: bool) -> None:
    """Put a merchant member of the station on the shop's staff (officers and admins)."""
    who.require("officer", "admin")
    shop = get_shop(session, who, shop_id)
    roles = session.scalar(sa.select(Membership.roles).where(
        Membership.station_id == who.station.id, Membership.user_id == user_id))
    if roles is None:
        raise Invalid("not_a_member", field="user_id")
    if "merchant" not in roles:
        raise Invalid("not_a_merchant", field="user_id")
    stations.put_group_member(session, who, shop.group_id, user_id, leader, plugin=PLUGIN)


def put_staff_by_phone(session: so.Session, who: Actor, shop_id: int, phone: str,
                       leader: bool) -> int:
    """Put the member with this phone on the shop's staff, as :func:`put_staff`; their id."""
    who.require("officer", "admin")
    user = accounts.find_by_phone(session, phones.normalize(phone))
    if user is None:
        raise Invalid("not_a_member", field="phone")
    put_staff(session, who, shop_id, user.id, leader)
    return user.id


def remove_staff(session: so.Session, who: Actor, shop_id: int, user_id: int) -> None:
    who.require("officer", "admin")
    shop = get_shop(session, who, shop_id)
    stations.remove_group_member(session, who, shop.group_id, user_id, plugin=PLUGIN)


# Offers ---------------------------------------------------------------------------------------

def _check_discount(data: dict[str, Any]) -> None:
    if data["kind"] == DiscountKind.PERCENT:
        if data.get("percent_off") is None or data.get("amount_off_cents") is not None:
            raise Invalid("offer_discount_invalid", field="percent_off")
    elif data.get("amount_off_cents") is None or data.get("percent_off") is not None:
        raise Invalid("offer_discount_invalid", field="amount_off_cents")


def _check_window(valid_from: dt.datetime, valid_until: dt.datetime) -> None:
    if valid_until <= valid_from:
        raise Invalid("offer_window_invalid", field="valid_until")


def create_offer(session: so.Session, who: Actor, data: dict[str, Any]) -> Offer:
    """Add an offer of an alliance shop (officers and admins)."""
    who.require("officer", "admin")
    shop = get_shop(session, who, data["shop_id"])
    _check_discount(data)
    data = {"valid_from": clock.now(), **data}
    _check_window(data["valid_from"], data["valid_until"])
    offer = Offer(station_id=who.station.id, stock_left=data["stock_total"],
                  created_by=who.user.id, **data)
    session.add(offer)
    session.flush()
    audit.record(session, actor=who.user, role=who.role, action="anti_fraud.offer_created",
                 record=offer, shop_id=shop.id)
    return offer


def update_offer(session: so.Session, who: Actor, offer_id: int, changes: dict[str, Any]) -> Offer:
    """Change an offer's terms of sale; the discount itself is fixed once coupons exist.

    A new ``stock_total`` moves the stock left by the same difference, in one conditional
    UPDATE, and may not fall below what was already claimed (409 ``offer_stock_below_claimed``).
    """
    who.require("officer", "admin")
    offer = get_offer(session, who, offer_id)
    changes = dict(changes)
    _check_window(changes.get("valid_from", offer.valid_from),
                  changes.get("valid_until", offer.valid_until))
    total = changes.pop("stock_total", None)
    if total is not None and total != offer.stock_total:
        moved = cast(sa.CursorResult[Any], session.execute(
            sa.update(Offer).where(Offer.id == offer.id,
                                   Offer.stock_left + (total - Offer.stock_total) >= 0)
            .values(stock_left=Offer.stock_left + (total - Offer.stock_total), stock_total=total)
            .execution_options(synchronize_session=False))).rowcount
        if moved != 1:
            raise Conflict("offer_stock_below_claimed", field="stock_total")
        session.expire(offer, ["stock_left", "stock_total"])
    for name, value in changes.items():
        setattr(offer, name, value)
    audit.record(session, actor=who.user, role=who.role, action="anti_fraud.offer_updated",
                 record=offer, fields=sorted([*changes, *(["stock_total"] if total else [])]))
    return offer


def get_offer(session: so.Session, who: Actor, offer_id: int) -> Offer:
    query = sa.select(Offer).where(Offer.id == offer_id, Offer.station_id == who.station.id)
    if not who.has_any("officer", "admin"):
        query = query.where(Offer.active.is_(True))
    offer = session.scalar(query)
    if offer is None:
        raise NotFound("offer_not_found")
    return offer


def offers_query(who: Actor, *, shop_id: int | None = None, available: bool = False,
                 include_inactive: bool = False) -> sa.Select[Offer, Shop]:
    """Offers with their shop; ``available``: open now, in stock, for sale with points."""
    query = (sa.select(Offer, Shop).join(Shop, Shop.id == Offer.shop_id)
             .where(Offer.station_id == who.station.id))
    if shop_id is not None:
        query = query.where(Offer.shop_id == shop_id)
    if not (include_inactive and who.has_any("officer", "admin")):
        query = query.where(Offer.active.is_(True), Shop.active.is_(True))
    if available:
        now = clock.now()
        query = query.where(Offer.valid_from <= now, Offer.valid_until > now,
                            Offer.stock_left > 0, Offer.points_cost.is_not(None))
    return query.order_by(Offer.valid_until, Offer.id)

