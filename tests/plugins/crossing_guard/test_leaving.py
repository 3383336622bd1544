"""A guard who leaves the station keeps no calendar address and no open swap offer."""

from __future__ import annotations

import sqlalchemy as sa

from core.models import Assignment
from plugins.crossing_guard.models import SwapOffer


def _feed_path(url: str) -> str:
    return url[url.index("/api/"):]


def test_a_removed_guards_feed_stops_and_their_offers_close(crossing, outbox):
    made = crossing.school(posts=[{"name": "North gate", "min_guards": 1, "max_guards": 2}],
                           term=("2026-03-02", "2026-03-06"))
    crossing.generate(made["term"])
    shift = next(s for s in crossing.shifts() if s["date"] == "2026-03-02")
    admin = crossing.world.person("Admin", station=crossing.station, roles=["admin"])
    leaver, other = crossing.guard("Guard A"), crossing.guard("Guard B")
    assert crossing.post(f"/shifts/{shift['id']}/signups", leaver).status_code == 201
    assert crossing.post(f"/shifts/{shift['id']}/signups", other).status_code == 201
    offered = crossing.post(f"/shifts/{shift['id']}/swap-offers", leaver)
    to_leaver = crossing.post(f"/shifts/{shift['id']}/swap-offers", other,
                              {"offered_to": leaver.id})
    assert offered.status_code == 201 and to_leaver.status_code == 201, to_leaver.json
    feed = _feed_path(crossing.post("/feed", leaver).json["url"])
    assert crossing.client.get(feed).status_code == 200

    members = crossing.client.get(f"/api/v1/stations/{crossing.code}/members?page_size=100",
                                  headers=admin.headers).json
    membership = next(m["id"] for m in members if m["user_id"] == leaver.id)
    gone = crossing.client.delete(f"/api/v1/stations/{crossing.code}/members/{membership}",
                                  headers=admin.headers)
    assert gone.status_code == 204

    stale = crossing.client.get(feed)
    assert stale.status_code == 404 and stale.json["code"] == "feed_not_found"
    crossing.session.expire_all()
    for offer in (offered, to_leaver):
        assert crossing.session.get(SwapOffer, offer.json["id"]).status == "cancelled"
    assert crossing.session.scalar(sa.select(Assignment.status).where(
        Assignment.task_id == shift["task_id"], Assignment.user_id == leaver.id)) == "withdrawn"
    # back as a resident: no feed comes back, and nothing of theirs is open
    outbox.prove_phone(crossing.client, leaver)  # a seat goes to a proven number only
    again = crossing.client.post(f"/api/v1/stations/{crossing.code}/members",
                                 json={"phone": leaver.phone, "roles": ["resident"]},
                                 headers=admin.headers)
    assert again.status_code == 201, again.json
    assert crossing.client.get(feed).status_code == 404
    assert crossing.get("/feed", leaver).json["active"] is False
    open_offers = crossing.get("/swap-offers", other, query_string={"status": "open"}).json
    assert open_offers == []


def test_an_erased_guards_name_leaves_the_swap_notices_others_received(crossing):
    from core.models import Notification

    made = crossing.school(posts=[{"name": "North gate", "min_guards": 1, "max_guards": 1}],
                           term=("2026-03-02", "2026-03-06"))
    crossing.generate(made["term"])
    shifts = crossing.shifts()
    monday, friday = (next(s for s in shifts if s["date"] == day)
                      for day in ("2026-03-02", "2026-03-06"))
    giver = crossing.guard("Giver Wang Erasable")
    taker = crossing.guard("Taker Li Erasable")
    free = crossing.guard("Free Zhao")
    assert crossing.post(f"/shifts/{monday['id']}/signups", giver).status_code == 201
    assert crossing.post(f"/shifts/{friday['id']}/signups", taker).status_code == 201
    given = crossing.post(f"/shifts/{monday['id']}/swap-offers", giver).json
    assert crossing.post(f"/swap-offers/{given['id']}/take", taker).status_code == 200
    still_open = crossing.post(f"/shifts/{friday['id']}/swap-offers", taker).json

    def named(name):
        crossing.session.expire_all()
        return [(n.user_id, n.code) for n in crossing.session.scalars(sa.select(Notification))
                if name in str(n.params)]

    assert (free.id, "crossing_guard.swap_offered") in named("Giver Wang Erasable")
    assert (giver.id, "crossing_guard.swap_taken") in named("Taker Li Erasable")
    for person in (giver, taker):
        assert crossing.client.delete("/api/v1/me", headers=person.headers).status_code == 204
    assert named("Giver Wang Erasable") == [] and named("Taker Li Erasable") == []
    assert named(f"erased-{giver.id}")  # the notices stay, with the name the core gives
    # an erased guard's open offer closes: nobody takes a place from an account that is gone
    assert crossing.session.get(SwapOffer, still_open["id"]).status == "cancelled"
