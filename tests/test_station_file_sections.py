"""The crossing and anti-fraud sections of the station file: what is archived, refused, inlined."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from api.cli import cli
from core import clock
from core.errors import Conflict, Invalid
from core.models import Task, TaskStatus
from core.station_file import document, plan
from core.station_file.document import FileErrors
from plugins.anti_fraud.models import Offer, Question, Quiz, Shop
from plugins.crossing_guard.models import Closure, Post, Shift, Template, Term

TODAY = clock.now().date()


def station(admin: str, merchant: str, *, extra: str = "") -> str:
    return f"""
[station]
code = "west"
name = "West Station"

[[seats]]
phone = "{admin}"
roles = ["admin", "officer"]

[[seats]]
phone = "{merchant}"
roles = ["merchant"]

[[groups]]
key = "guards"
kind = "crossing_team"
name = "Guards"
leaders = ["{admin}"]

[plugins.crossing_guard]
enabled = true

[plugins.anti_fraud]
enabled = true

[[crossing_guard.schools]]
key = "school"
name = "School"
lat = 35.4
lon = 116.5
team = "guards"

[[crossing_guard.schools.posts]]
key = "gate"
name = "Gate"
kind = "gate"
lat = 35.4
lon = 116.5

[[crossing_guard.schools.posts.templates]]
key = "gate-am"
name = "Morning"
weekdays = [1, 2, 3, 4, 5]
starts = 07:10:00
ends = 07:50:00

[[crossing_guard.terms]]
key = "term"
name = "This term"
starts_on = {TODAY - dt.timedelta(days=3)}
ends_on = {TODAY + dt.timedelta(days=60)}

[[anti_fraud.shops]]
key = "shop"
name = "Shop"
managers = ["{merchant}"]

[[anti_fraud.shops.offers]]
key = "coffee"
title = "Coffee 10% off"
kind = "percent"
percent_off = 10
points_cost = 20
stock_total = 10
valid_from = 2026-01-01T00:00:00+08:00
valid_until = 2030-01-01T00:00:00+08:00

[[anti_fraud.quizzes]]
key = "basics"
title = "Basics"
locale = "en"
question_count = 3
reward_offer = "coffee"
{extra}"""


@pytest.fixture
def west(session, world):
    admin = world.person("admin")
    merchant = world.person("merchant")
    root = world.root
    text = station(admin.phone, merchant.phone)
    plan.apply(session, root, document.read(session.info["deployment"], text))
    session.flush()
    return root, admin, merchant, text


def read(session, text):
    return document.read(session.info["deployment"], text)


def test_a_term_in_the_file_gets_its_shifts_and_the_plan_is_then_empty(session, west):
    root, _admin, _merchant, text = west
    gate = session.scalar(sa.select(Post).where(Post.key == "gate"))
    assert session.scalar(sa.select(sa.func.count()).select_from(Shift).where(
        Shift.post_id == gate.id)) > 10
    assert plan.make_plan(session, root, read(session, text)).empty
    assert plan.make_plan(session, root, read(session, plan.export_text(session, root, "west"))).empty


def test_a_closure_over_guarded_shifts_needs_allow_and_cancels_them(session, west):
    root, admin, _merchant, text = west
    shift, task = session.execute(
        sa.select(Shift, Task).join(Task, Task.id == Shift.task_id)
        .where(Shift.starts_at > clock.now()).order_by(Shift.starts_at).limit(1)).one()
    from core import tasks

    tasks.sign_up(session, task, admin.id)
    day = shift.local_date
    closed = text + f"""
[[crossing_guard.closures]]
key = "holiday"
kind = "holiday"
reason = "Holiday"
starts_on = {day}
ends_on = {day}
"""
    found = plan.make_plan(session, root, read(session, closed))
    assert [(c.action, c.path, c.harm) for c in found.changes] == [
        ("create", "crossing_guard.closures[holiday]", "cancel_guarded_shifts")]
    with pytest.raises(Conflict):
        plan.apply(session, root, read(session, closed))
    plan.apply(session, root, read(session, closed), allow={"cancel_guarded_shifts"})
    session.expire_all()
    assert session.get(Task, task.id).status == TaskStatus.CANCELLED
    assert session.scalar(sa.select(Closure.key)) == "holiday"
    # Left out again, the closure goes and the day gets its shifts back.
    reopened = closed.replace('key = "holiday"', 'key = "holiday"', 1)
    without = reopened.split("[[crossing_guard.closures]]")[0] + "[crossing_guard]\nclosures = []\n"
    assert [(c.action, c.path) for c in plan.make_plan(session, root, read(session, without))
            .changes] == [("archive", "crossing_guard.closures[holiday]")]


def test_a_template_left_out_is_switched_off_with_its_future_shifts(session, west):
    root, _admin, _merchant, text = west
    template = session.scalar(sa.select(Template).where(Template.key == "gate-am"))
    without = text.replace("""[[crossing_guard.schools.posts.templates]]
key = "gate-am"
name = "Morning"
weekdays = [1, 2, 3, 4, 5]
starts = 07:10:00
ends = 07:50:00
""", "")
    found = plan.make_plan(session, root, read(session, without))
    assert [(c.action, c.path) for c in found.changes] == [
        ("archive", "crossing_guard.schools[school].posts[gate].templates[gate-am]")]
    assert "future shift(s) cancelled" in found.changes[0].note
    plan.apply(session, root, read(session, without))
    session.expire_all()
    assert not session.get(Template, template.id).active
    live = session.scalar(sa.select(sa.func.count()).select_from(Shift).join(
        Task, Task.id == Shift.task_id).where(Shift.template_id == template.id,
                                              Shift.starts_at > clock.now(),
                                              Task.status == TaskStatus.OPEN))
    assert live == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(Term)) == 1


def test_offers_quizzes_and_shops_are_archived_never_deleted(session, west):
    root, _admin, _merchant, text = west
    quiz = session.scalar(sa.select(Quiz).where(Quiz.key == "basics"))
    offer = session.scalar(sa.select(Offer).where(Offer.key == "coffee"))
    assert quiz.reward_offer_id == offer.id
    shop = session.scalar(sa.select(Shop).where(Shop.key == "shop"))
    assert shop.group_id  # the staff group, managed by the section (not in [[groups]])
    bare = text.split("[[anti_fraud.shops]]")[0] + "[anti_fraud]\nshops = []\n"
    found = plan.make_plan(session, root, read(session, bare))
    assert sorted((c.action, c.path) for c in found.changes) == [
        ("archive", "anti_fraud.quizzes[basics]"), ("archive", "anti_fraud.shops[shop]"),
        ("archive", "anti_fraud.shops[shop].offers[coffee]")]
    plan.apply(session, root, read(session, bare))
    session.expire_all()
    assert not session.get(Quiz, quiz.id).active and session.get(Quiz, quiz.id).key is None
    assert not session.get(Offer, offer.id).active
    assert not session.get(Shop, shop.id).active
    assert plan.make_plan(session, root, read(session, bare)).empty


def test_an_offers_discount_cannot_change(session, west):
    root, _admin, _merchant, text = west
    dearer = text.replace("percent_off = 10", "percent_off = 20")
    found = plan.make_plan(session, root, read(session, dearer))
    assert [c.fields for c in found.changes] == [{"percent_off": (10, 20)}]
    assert "new key" in found.changes[0].note
    with pytest.raises(Invalid) as refused:
        plan.apply(session, root, read(session, dearer))
    assert refused.value.details["reason"] == "station_file_fixed_field"
    session.expire_all()
    assert session.scalar(sa.select(Offer.percent_off).where(Offer.key == "coffee")) == 10


def test_a_question_bank_comes_inline_and_is_kept_by_key(session, west):
    root, _admin, _merchant, text = west
    banked = text + """
[[anti_fraud.questions]]
key = "q1"
category = "impersonation"
locale = "en"
text = "A caller says he is the police and asks for a transfer. What do you do?"
choices = ["Pay", "Hang up and call 110"]
correct = [1]
"""
    plan.apply(session, root, read(session, banked))
    session.flush()
    starter = session.scalar(sa.select(sa.func.count()).select_from(Question).where(
        Question.archived_at.is_(None)))
    assert starter == 1  # the file owns the bank: the starter questions are archived
    assert plan.make_plan(session, root, read(session, banked)).empty
    reworded = banked.replace("What do you do?", "What should you do?")
    found = plan.make_plan(session, root, read(session, reworded))
    assert [(c.action, c.path) for c in found.changes] == [("update", "anti_fraud.questions[q1]")]


def test_the_api_refuses_a_bank_named_by_path(session):
    with pytest.raises(FileErrors) as caught:
        read(session, '[station]\ncode = "x1"\nname = "X"\n[anti_fraud]\nbank = "/etc/passwd"\n')
    assert caught.value.errors == [{
        "path": "anti_fraud.bank",
        "message": "a file path is read by the command line only: send the questions inline"}]


def test_the_command_line_reads_a_bank_file_beside_the_station_file(tmp_path, monkeypatch):
    monkeypatch.setenv("WARDENS_INSTANCE", str(tmp_path))
    monkeypatch.setenv("WARDENS_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    (tmp_path / "bank.csv").write_text(
        "key,category,locale,text,choice_a,choice_b,correct\n"
        "q1,impersonation,en,Is a 'safe account' real?,Yes,No,B\n"
        "q2,impersonation,en,,Yes,No,B\n", encoding="utf-8")
    path = tmp_path / "s.toml"
    path.write_text('[station]\ncode = "x1"\nname = "X"\n[anti_fraud]\nbank = "bank.csv"\n')
    out = runner.invoke(cli, ["station", "validate", str(path)])
    assert out.exit_code == 1
    assert "anti_fraud.bank (line 3): text:" in out.output
    (tmp_path / "bank.csv").write_text(
        "key,category,locale,text,choice_a,choice_b,correct\n"
        "q1,impersonation,en,Is a 'safe account' real?,Yes,No,B\n", encoding="utf-8")
    assert runner.invoke(cli, ["station", "validate", str(path)]).exit_code == 0


def test_the_command_line_refuses_a_harm_and_names_the_allow(tmp_path, monkeypatch):
    monkeypatch.setenv("WARDENS_INSTANCE", str(tmp_path))
    monkeypatch.setenv("WARDENS_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(cli, ["user", "create", "--phone", "13800001111", "--password",
                               "long-enough-1", "--superuser"]).exit_code == 0
    path = tmp_path / "s.toml"
    text = '[station]\ncode = "x1"\nname = "X"\n[[seats]]\nphone = "+8613900000001"\n'
    path.write_text(text + 'roles = ["admin"]\n')
    assert runner.invoke(cli, ["station", "apply", str(path)]).exit_code == 0
    path.write_text(text + 'roles = ["officer"]\n')
    out = runner.invoke(cli, ["station", "apply", str(path)])
    assert out.exit_code == 1
    assert "seats[+8613900000001]: would remove_last_admin" in out.output
    assert "--allow" in out.output
    done = runner.invoke(cli, ["station", "apply", str(path), "--allow", "remove_last_admin"])
    assert done.exit_code == 0, done.output
    assert "1 changed" in done.output


def test_a_post_and_a_shop_dropped_then_brought_back_return_with_their_history(session, west):
    root, _admin, _merchant, text = west
    gate = session.scalar(sa.select(Post).where(Post.key == "gate"))
    shop = session.scalar(sa.select(Shop).where(Shop.key == "shop"))
    school_only = text.split("[[crossing_guard.schools.posts]]")[0] + \
        "[[crossing_guard.terms]]" + text.split("[[crossing_guard.terms]]")[1]
    dropped = school_only.split("[[anti_fraud.shops]]")[0] + "[anti_fraud]\nshops = []\n"
    plan.apply(session, root, read(session, dropped))
    session.expire_all()
    assert not session.get(Post, gate.id).active and not session.get(Shop, shop.id).active
    plan.apply(session, root, read(session, text))
    session.expire_all()
    assert session.get(Post, gate.id).active and session.get(Post, gate.id).key == "gate"
    assert session.get(Shop, shop.id).active and session.get(Shop, shop.id).key == "shop"
    assert session.scalar(sa.select(sa.func.count()).select_from(Post)) == 1
    assert plan.make_plan(session, root, read(session, text)).empty


def test_a_care_campaign_is_launched_from_the_file_and_then_fixed(session, world):
    admin = world.person("admin")
    later = clock.now() + dt.timedelta(days=30)
    text = f"""
[station]
code = "care"
name = "Care"

[[seats]]
phone = "{admin.phone}"
roles = ["admin", "officer"]

[[groups]]
key = "care-team"
kind = "care_team"
name = "Care team"
leaders = ["{admin.phone}"]

[plugins.care_visits]
enabled = true

[[care_visits.campaigns]]
name = "Festival visits"
starts_at = {clock.now().isoformat()}
ends_at = {later.isoformat()}
supplies = [{{item = "rice", quantity = 10, unit = "kg"}}]
"""
    # Launching a campaign is a care officer's act: the superuser sets the station up, the
    # admin of its care team then applies the campaign.
    plan.apply(session, world.root, read(session, text.split("[[care_visits")[0]))
    plan.apply(session, admin.user, read(session, text))
    session.flush()
    from plugins.care_visits.models import Campaign

    campaign = session.scalar(sa.select(Campaign).where(Campaign.name == "Festival visits"))
    assert campaign.supplies == [{"item": "rice", "quantity": 10, "unit": "kg"}]
    assert plan.make_plan(session, admin.user, read(session, text)).empty
    exported = plan.export_text(session, admin.user, "care")
    assert plan.make_plan(session, admin.user, read(session, exported)).empty
    moved = text.replace(later.isoformat(), (later + dt.timedelta(days=1)).isoformat())
    found = plan.make_plan(session, admin.user, read(session, moved))
    assert [(c.action, c.path) for c in found.changes] == [
        ("update", "care_visits.campaigns[Festival visits]")]
    with pytest.raises(Invalid) as refused:
        plan.apply(session, admin.user, read(session, moved))
    assert refused.value.details["reason"] == "station_file_fixed_field"
    # Recipients never reach a file.
    assert "recipient" not in exported
