"""Points: rules, adjustments and their approval, the leaderboard, a person's ledger."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for

from api.auth import actor
from api.resources.points import AdjustmentSchema, RulesPutSchema
from api.unit_of_work import db
from console.blueprint import bp
from console.pages import form_int, load, paged, refused, render
from core import ledger, point_requests, stations
from core.errors import NotFound, WardensError
from core.models import Membership, PendingAdjustment, User


def _page(station: str, status: int = 200, **context: Any) -> Any:
    who = actor(station)
    period = request.args.get("period", "week")
    period = period if period in ledger.PERIODS else "week"
    rules = point_requests.rules(db(), who)["rules"]
    pending = db().scalars(point_requests.pending_adjustments(who).limit(100)).all()
    board = point_requests.leaderboard(db(), who, period=period, group_id=None, limit=20)
    names = _names({p.user_id for p in pending} | {p.requested_by for p in pending})
    return render("console/points.html", status=status, station=station, rules=rules,
                  pending=pending, board=board, period=period, periods=ledger.PERIODS,
                  names=names, **context)


def _names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    import sqlalchemy as sa

    return dict(db().execute(sa.select(User.id, User.display_name).where(User.id.in_(ids))).all())


@bp.route("/<station>/points", methods=["GET"], endpoint="points")
def points(station: str) -> Any:
    return _page(station)


@bp.route("/<station>/points", methods=["POST"], endpoint="points_change")
def points_change(station: str) -> Any:
    """Set rules (``rule:<code>`` fields), adjust (``user_id``, ``amount``, ``reason``),
    or approve / reject a pending adjustment."""
    who = actor(station)
    form = request.form
    notice = None
    try:
        if form.get("approve") or form.get("reject"):
            point_requests.decide_adjustment(db(), who, form_int("approve" if form.get("approve")
                                                                else "reject") or 0,
                                             approve=bool(form.get("approve")))
        elif any(key.startswith("rule:") for key in form):
            current = {r["event_code"]: r["override"]
                       for r in point_requests.rules(db(), who)["rules"]}
            amounts: dict[str, Any] = {}
            for key, value in form.items():
                code, wanted = key[5:], value.strip() or None
                # Only what changed: an empty field is the default (no override of the station).
                if key.startswith("rule:") and str(current.get(code)) != str(wanted):
                    amounts[code] = wanted
            if amounts:
                body = load(RulesPutSchema, {"rules": amounts})
                point_requests.set_rules(db(), who, body.get("rules"))
            notice = "saved"
        else:
            body = load(AdjustmentSchema, {"user_id": form_int("user_id"),
                                           "amount": form_int("amount"),
                                           "reason": form.get("reason") or ""})
            done = point_requests.adjust(db(), who, **body)
            if isinstance(done, PendingAdjustment):
                notice = "adjustment_waits"
    except WardensError as error:
        return refused(lambda **c: _page(station, **c), error)
    return redirect(url_for("console.points", station=station, notice=notice), 303)


@bp.route("/<station>/points/people/<int:user_id>", methods=["GET"], endpoint="points_person")
def points_person(station: str, user_id: int) -> Any:
    """A person's balance and ledger, newest first (officers and admins)."""
    who = actor(station)
    balance = point_requests.balance(db(), who, user_id)
    # Someone of this station only: another station's people are unknown here.
    row = db().execute(stations.members_query(who).where(Membership.user_id == user_id)).first()
    if row is None or row.User is None:
        raise NotFound("member_not_found")
    entries, page, more = paged(point_requests.entries(who, user_id=user_id))
    return render("console/points_person.html", station=station, balance=balance["balance"],
                  entries=entries, page=page, more=more, person=row.User.display_name,
                  user_id=user_id)
