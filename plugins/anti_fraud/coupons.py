"""Coupons: claimed with points or granted by a quiz, shown as a short-lived signed QR, redeemed once."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock, ledger, notifications, targets
from core.access import Actor
from core.errors import Conflict, Invalid, NotFound, PermissionDenied
from plugins.anti_fraud import shops
from plugins.anti_fraud.models import Coupon, CouponSource, DiscountKind, Offer, Redemption, Shop

if TYPE_CHECKING:
    from plugins.anti_fraud.models import Quiz

SPEND_EVENT = "anti_fraud.coupon_claimed"
SPEND_SOURCE = "anti_fraud_coupon"
QR_PREFIX = "WAF1"


def _take_stock(session: so.Session, offer: Offer) -> bool:
    """One unit of stock, by a conditional UPDATE: concurrent claims never oversell."""
    taken = cast(sa.CursorResult[Any], session.execute(
        sa.update(Offer).where(Offer.id == offer.id, Offer.stock_left > 0)
        .values(stock_left=Offer.stock_left - 1).execution_options(synchronize_session=False)
    )).rowcount == 1
    session.expire(offer, ["stock_left"])
    return taken


def _insert_coupon(session: so.Session, offer: Offer, user_id: int, now: dt.datetime,
                   **extra: Any) -> Coupon:
    """Insert the resident's next coupon of the offer, numbered 1, 2, ... up to the limit.

    Two claims of one person race for the same number: the unique key makes the second wait
    and fail, and it counts again. 409 ``offer_limit_reached`` past the per-resident limit.
    """
    for _ in range(5):
        taken = session.scalar(sa.select(sa.func.max(Coupon.number)).where(
            Coupon.station_id == offer.station_id, Coupon.offer_id == offer.id,
            Coupon.user_id == user_id)) or 0
        if taken >= offer.per_resident_limit:
            raise Conflict("offer_limit_reached", limit=offer.per_resident_limit)
        coupon = Coupon(station_id=offer.station_id, offer_id=offer.id, shop_id=offer.shop_id,
                        user_id=user_id, number=taken + 1, issued_at=now,
                        expires_at=now + dt.timedelta(days=offer.coupon_days), **extra)
        try:
            with session.begin_nested():
                session.add(coupon)
                session.flush()
            return coupon
        except sa.exc.IntegrityError:
            if extra.get("quiz_id") is not None and _granted(session, extra["quiz_id"], user_id):
                raise _AlreadyGranted from None
    raise Conflict("conflict")


def coupon_target(coupon: Coupon) -> dict[str, Any]:
    """What the app opens for a notification about ``coupon``: the person's coupon."""
    return targets.target("anti_fraud.coupon", coupon_id=coupon.id)


def offer_open(offer: Offer, now: dt.datetime) -> bool:
    return offer.active and offer.valid_from <= now < offer.valid_until


def claim(session: so.Session, who: Actor, offer_id: int) -> Coupon:
    """Issue the coupon, spend the offer's points and take one from its stock, all or nothing.

    409 ``offer_not_open``, ``offer_reward_only`` (granted by a quiz, not sold),
    ``offer_limit_reached`` (per resident), ``insufficient_points``, ``offer_out_of_stock``.
    """
    who.require_member()
    now = clock.now()
    offer = shops.get_offer(session, who, offer_id)
    if not offer_open(offer, now) or not shops.shop_active(session, offer.shop_id):
        raise Conflict("offer_not_open")
    if offer.points_cost is None:
        raise Conflict("offer_reward_only")
    if offer.stock_left <= 0:
        raise Conflict("offer_out_of_stock")  # the cheap early answer; the UPDATE below decides
    coupon = _insert_coupon(session, offer, who.user.id, now, source=CouponSource.CLAIM,
                            points_spent=offer.points_cost)
    # Points before stock: the balance row is the resident's own, so the offer's hot row is
    # locked last and held for the shortest time.
    if offer.points_cost > 0:
        ledger.spend(session, station_id=offer.station_id, user_id=who.user.id,
                     amount=offer.points_cost, event_code=SPEND_EVENT, source_type=SPEND_SOURCE,
                     source_id=coupon.id, note=offer.title[:200])
    if not _take_stock(session, offer):
        raise Conflict("offer_out_of_stock")
    return coupon


def grant_for_quiz(session: so.Session, quiz: Quiz, user_id: int) -> tuple[Coupon | None, str | None]:
    """The reward coupon of a quiz pass, once per quiz per resident.

    Returns the new coupon, or None and why not: ``already_granted``, ``offer_not_open``,
    ``offer_out_of_stock`` or ``offer_limit_reached``. Never raises: the pass stands.
    """
    now = clock.now()
    offer = session.get(Offer, quiz.reward_offer_id)
    if offer is None or not offer_open(offer, now) or not shops.shop_active(session, offer.shop_id):
        return None, "offer_not_open"
    if _granted(session, quiz.id, user_id):
        return None, "already_granted"
    try:
        with session.begin_nested():
            coupon = _insert_coupon(session, offer, user_id, now, source=CouponSource.QUIZ,
                                    quiz_id=quiz.id)
            if not _take_stock(session, offer):
                raise _OutOfStock
    except _AlreadyGranted:
        return None, "already_granted"
    except _OutOfStock:
        return None, "offer_out_of_stock"
    except Conflict as exc:
        return None, exc.code
    notifications.notify(session, user_id, "anti_fraud.coupon_granted", station_id=quiz.station_id,
                         target=coupon_target(coupon), coupon_id=coupon.id, offer=offer.title,
                         quiz=quiz.title, expires_at=coupon.expires_at)
    return coupon, None


def _granted(session: so.Session, quiz_id: int, user_id: int) -> bool:
    return session.scalar(sa.select(Coupon.id).where(
        Coupon.quiz_id == quiz_id, Coupon.user_id == user_id)) is not None


class _OutOfStock(Exception):
    pass


class _AlreadyGranted(Exception):
    pass


# Looking at coupons ---------------------------------------------------------------------------

def status_of(coupon: Coupon, now: dt.datetime | None = None) -> str:
    if coupon.redeemed_at is not None:
        return "redeemed"
    return "expired" if coupon.expires_at <= (now or clock.now()) else "active"


def my_coupons(who: Actor, status: str | None = None) -> sa.Select[Coupon, Offer, Shop]:
    now = clock.now()
    query = (sa.select(Coupon, Offer, Shop)
             .join(Offer, Offer.id == Coupon.offer_id).join(Shop, Shop.id == Coupon.shop_id)
             .where(Coupon.station_id == who.station.id, Coupon.user_id == who.user.id))
    if status == "active":
        query = query.where(Coupon.redeemed_at.is_(None), Coupon.expires_at > now)
    elif status == "redeemed":
        query = query.where(Coupon.redeemed_at.is_not(None))
    elif status == "expired":
        query = query.where(Coupon.redeemed_at.is_(None), Coupon.expires_at <= now)
    return query.order_by(Coupon.issued_at.desc(), Coupon.id.desc())


def get_my_coupon(session: so.Session, who: Actor, coupon_id: int) -> tuple[Coupon, Offer, Shop]:
    row = session.execute(my_coupons(who).where(Coupon.id == coupon_id)).first()
    if row is None:
        raise NotFound("coupon_not_found")
    coupon, offer, shop = row
    return coupon, offer, shop


# The QR code ----------------------------------------------------------------------------------

def _qr_key(secret: str) -> bytes:
    # A key of its own, derived from the app's secret: a QR signature can never pass as a token.
    return hmac.new(secret.encode(), b"wardens.anti_fraud.coupon_qr", hashlib.sha256).digest()


def _signature(secret: str, message: str) -> str:
    digest = hmac.new(_qr_key(secret), message.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class QrCode:
    payload: str
    expires_at: dt.datetime


def qr_code(session: so.Session, who: Actor, coupon_id: int, *, secret: str,
            ttl: dt.timedelta) -> QrCode:
    """A signed payload for the coupon's QR code, good for ``ttl``: a screenshot soon dies."""
    coupon, _offer, _shop = get_my_coupon(session, who, coupon_id)
    now = clock.now()
    _require_usable(coupon, now)
    expires = int((now + ttl).timestamp())
    message = f"{QR_PREFIX}.{coupon.station_id}.{coupon.id}.{expires}"
    return QrCode(f"{message}.{_signature(secret, message)}",
                  dt.datetime.fromtimestamp(expires, dt.UTC))


def _require_usable(coupon: Coupon, now: dt.datetime) -> None:
    if coupon.redeemed_at is not None:
        raise Conflict("coupon_already_redeemed")
    if coupon.expires_at <= now:
        raise Conflict("coupon_expired", expired_at=coupon.expires_at.isoformat())


def read_qr(payload: str, station_id: int, *, secret: str) -> int:
    """The coupon id a QR payload names; 422 ``coupon_qr_invalid``, 409 ``coupon_qr_expired``."""
    parts = payload.strip().split(".")
    if len(parts) != 5 or parts[0] != QR_PREFIX or not all(p.isdecimal() for p in parts[1:4]):
        raise Invalid("coupon_qr_invalid", field="payload")
    message = ".".join(parts[:4])
    if not hmac.compare_digest(parts[4], _signature(secret, message)):
        raise Invalid("coupon_qr_invalid", field="payload")
    if int(parts[1]) != station_id:
        raise Invalid("coupon_qr_invalid", field="payload")
    if int(parts[3]) < clock.now().timestamp():
        raise Conflict("coupon_qr_expired")
    return int(parts[2])


# At the till ----------------------------------------------------------------------------------

def discount_for(offer: Offer, bill_cents: int) -> int:
    if offer.kind == DiscountKind.PERCENT:
        assert offer.percent_off is not None
        return min(bill_cents, (bill_cents * offer.percent_off + 50) // 100)
    assert offer.amount_off_cents is not None
    return min(bill_cents, offer.amount_off_cents)


def redeem(session: so.Session, who: Actor, payload: str, bill_cents: int, *,
           secret: str) -> tuple[Redemption, Coupon, Offer, Shop]:
    """Redeem a scanned coupon at its shop's till, once.

    403 ``not_shop_staff`` for anyone but the merchant staff of the coupon's shop, and
    ``coupon_self_redemption`` for staff scanning their own coupon (the shop would pay a
    discount its own staff gave themselves); 409 ``coupon_already_redeemed`` /
    ``coupon_expired``; 422 ``minimum_spend_not_met``.
    """
    who.require_member()
    coupon_id = read_qr(payload, who.station.id, secret=secret)
    now = clock.now()
    coupon = session.scalar(sa.select(Coupon).where(
        Coupon.id == coupon_id, Coupon.station_id == who.station.id))
    if coupon is None:
        raise NotFound("coupon_not_found")
    shop = session.get(Shop, coupon.shop_id)
    assert shop is not None
    if not shops.is_staff(session, who, shop):
        raise PermissionDenied("not_shop_staff")
    if coupon.user_id == who.user.id:
        raise PermissionDenied("coupon_self_redemption")
    offer = session.get(Offer, coupon.offer_id)
    assert offer is not None
    _require_usable(coupon, now)
    if bill_cents < offer.min_spend_cents:
        raise Invalid("minimum_spend_not_met", field="bill_cents",
                      min_spend_cents=offer.min_spend_cents)
    # The conditional UPDATE is the one truth: of many scans racing, one changes the row.
    used = cast(sa.CursorResult[Any], session.execute(
        sa.update(Coupon).where(Coupon.id == coupon.id, Coupon.redeemed_at.is_(None),
                                Coupon.expires_at > now)
        .values(redeemed_at=now).execution_options(synchronize_session=False))).rowcount
    if used != 1:
        session.refresh(coupon)
        _require_usable(coupon, now)
        raise Conflict("coupon_already_redeemed")
    so.attributes.set_committed_value(coupon, "redeemed_at", now)
    redemption = Redemption(station_id=coupon.station_id, coupon_id=coupon.id, shop_id=shop.id,
                            offer_id=offer.id, user_id=coupon.user_id, staff_id=who.user.id,
                            bill_cents=bill_cents, discount_cents=discount_for(offer, bill_cents),
                            redeemed_at=now)
    session.add(redemption)
    session.flush()
    audit.record(session, actor=who.user, role=who.role, action="anti_fraud.coupon_redeemed",
                 record=redemption, coupon_id=coupon.id, shop_id=shop.id,
                 discount_cents=redemption.discount_cents)
    notifications.notify(session, coupon.user_id, "anti_fraud.coupon_redeemed",
                         station_id=coupon.station_id, target=coupon_target(coupon),
                         coupon_id=coupon.id, offer=offer.title, shop=shop.name,
                         redeemed_at=now, discount=f"{redemption.discount_cents / 100:.2f}")
    return redemption, coupon, offer, shop
