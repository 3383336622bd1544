"""Demo data: the station of examples/demo-station.toml, its people (one per role), their activity."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import accounts, events, stations
from core.access import Actor
from core.models import Station, User
from core.station_file import document, plan

if TYPE_CHECKING:
    from core.plugins import Deployment

DEMO_PASSWORD = "wardens-demo"
DEMO_STATION = "demo"
DEMO_FILE = Path(__file__).resolve().parent.parent / "examples" / "demo-station.toml"

# (key, phone, name, roles) — fictitious people of a fictitious station.
PEOPLE = [
    ("admin", "+8613800000001", "站长 王安", ["admin", "officer"]),
    ("officer", "+8613800000002", "民警 李卫", ["officer"]),
    ("volunteer1", "+8613800000003", "志愿者 张红", ["volunteer", "resident"]),
    ("volunteer2", "+8613800000004", "志愿者 陈刚", ["volunteer", "resident"]),
    ("volunteer3", "+8613800000005", "志愿者 刘梅", ["volunteer", "resident"]),
    ("resident1", "+8613800000006", "居民 赵丽", ["resident"]),
    ("resident2", "+8613800000007", "居民 孙强", ["resident"]),
    ("merchant", "+8613800000008", "商户 周平", ["merchant", "resident"]),
    ("partner", "+8613800000009", "物业 吴军", ["partner"]),
]
SUPERUSER = ("superuser", "+8613800000000", "系统管理员")


def demo_document(deployment: Deployment) -> dict[str, Any]:
    """examples/demo-station.toml, without what this deployment does not install."""
    data = document.parse(DEMO_FILE.read_text(encoding="utf-8"))
    installed = set(deployment.plugins)
    data["plugins"] = {k: v for k, v in data.get("plugins", {}).items() if k in installed}
    owners = deployment.station_section_owner
    data = {k: v for k, v in data.items() if k in owners and owners[k] in (None, *installed)}
    return document.validate(deployment, data)


def seed(session: so.Session,
         progress: Callable[[int, int], None] | None = None) -> dict[str, User]:
    """Create the demo people, then the station from examples/demo-station.toml, once.

    The file sets the station up (seats, groups, plugins, routes, schools, shops...); each
    plugin's ``wardens_seed_demo`` then adds what happened there (patrols walked, sign-ups).
    Later runs change nothing. ``progress(done, total)`` hears of each person, each change of
    the file and the plugins' activity (the total grows once the file's plan is known).
    """
    done, total = 0, 1 + len(PEOPLE) + 1

    def step(*_: Any) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    def planned(found: plan.Plan) -> None:
        nonlocal total
        total += len(found.changes)

    people: dict[str, User] = {}
    key, phone, name = SUPERUSER
    people[key] = accounts.find_by_phone(session, phone) or accounts.create_user(
        session, phone=phone, display_name=name, password=DEMO_PASSWORD, is_superuser=True,
        phone_verified=True)
    step()
    for key, phone, name, _roles in PEOPLE:
        people[key] = accounts.find_by_phone(session, phone) or accounts.create_user(
            session, phone=phone, display_name=name, password=DEMO_PASSWORD, phone_verified=True)
        step()
    if session.scalar(sa.select(Station.id).where(Station.code == DEMO_STATION)) is not None:
        step()
        return people
    deployment = events.deployment(session)
    plan.apply(session, people["superuser"], demo_document(deployment), progress=step,
               on_plan=planned)
    station = session.scalars(sa.select(Station).where(Station.code == DEMO_STATION)).one()
    for key, _phone, _name, roles in PEOPLE:
        if roles == ["resident"]:  # residents join an open station by themselves
            stations.join(session, Actor(people[key], station, None))
    session.flush()
    deployment.hooks_for(session, station.id).wardens_seed_demo(
        session=session, station=station, people=people)
    step()
    return people


def logins() -> list[tuple[str, str, str]]:
    """(who, phone, password) for the printed list."""
    rows = [(SUPERUSER[0], SUPERUSER[1], DEMO_PASSWORD)]
    rows += [(f"{key} ({', '.join(roles)})", phone, DEMO_PASSWORD)
             for key, phone, _name, roles in PEOPLE]
    return rows
