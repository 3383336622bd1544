"""The job contract (a slot runs once per station; a failure is recorded, not contagious) and
the core's jobs: purge idempotency keys and old job runs, mark no-shows after a task's window."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core import clock
from core.jobs import run_due_jobs, slot_of
from core.models import (
    Assignment,
    AssignmentStatus,
    AuditEvent,
    IdempotencyKey,
    JobRun,
    Task,
    TaskStatus,
)
from tests.sample_plugin.models import SampleEvent

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)

def runs(session, job):
    return session.execute(sa.select(JobRun.station_id, JobRun.slot, JobRun.error)
                           .where(JobRun.job == job).order_by(JobRun.id)).all()


def test_each_slot_runs_once_per_station_and_the_next_slot_runs_again(world, session, flaky):
    east = world.station("east", plugins=("flaky",))
    west = world.station("west", plugins=("flaky",))
    world.station("north")  # flaky is off there
    first = run_due_jobs(flaky, NOON, worker="w1")
    assert [r for r in first if r[0].startswith("flaky.")] == [
        ("flaky.boom", east.id), ("flaky.boom", west.id),
        ("flaky.steady", east.id), ("flaky.steady", west.id), ("flaky.nightly", 0)]
    assert run_due_jobs(flaky, NOON + dt.timedelta(minutes=4), worker="w2") == []

    later = run_due_jobs(flaky, NOON + dt.timedelta(minutes=5), worker="w2")
    assert ("flaky.steady", east.id) in later and ("flaky.nightly", 0) not in later
    slots = [slot for _sid, slot, _e in runs(session, "flaky.steady")]
    assert slots == [NOON, NOON, NOON + dt.timedelta(minutes=5), NOON + dt.timedelta(minutes=5)]
    worker = session.scalar(sa.select(JobRun.worker).where(JobRun.job == "flaky.nightly"))
    assert worker == "w1"


def test_a_failing_job_is_rolled_back_recorded_and_stops_nothing_else(world, session, flaky):
    east = world.station("east", plugins=("flaky",))
    run_due_jobs(flaky, NOON)
    (boom,) = runs(session, "flaky.boom")
    assert boom.station_id == east.id and "RuntimeError: the printer is on fire" in boom.error
    assert runs(session, "flaky.steady")[0].error is None
    actions = session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.action.like("flaky.%")).order_by(AuditEvent.id)).all()
    assert actions == ["flaky.done", "flaky.nightly"]  # boom's half-done write is gone
    finished = session.scalars(sa.select(JobRun.finished_at).where(
        JobRun.job.like("flaky.%"))).all()
    assert all(at is not None for at in finished)


def test_slots_are_aligned_to_the_interval():
    from core.jobs import Job

    job = Job("x", dt.timedelta(minutes=10), lambda *a: None)
    assert slot_of(job, NOON + dt.timedelta(minutes=19, seconds=59)) == NOON + dt.timedelta(
        minutes=10)


def test_idempotency_keys_older_than_seven_days_are_purged(world, session, deployment):
    person = world.person()
    clock.freeze(NOON)
    for age in (dt.timedelta(days=8), dt.timedelta(days=7, minutes=1), dt.timedelta(days=6)):
        session.add(IdempotencyKey(user_id=person.id, key=f"k-{age.days}-{age.seconds}",
                                   fingerprint="f", created_at=NOON - age))
    session.commit()
    assert ("core.purge_idempotency_keys", 0) in run_due_jobs(deployment, NOON)
    left = session.scalars(sa.select(IdempotencyKey.created_at)).all()
    assert left == [NOON - dt.timedelta(days=6)]


def test_old_job_runs_are_purged_after_thirty_days(world, session, deployment):
    session.add(JobRun(job="old", station_id=0, slot=NOON - dt.timedelta(days=31), worker="w",
                       started_at=NOON - dt.timedelta(days=31)))
    session.commit()
    run_due_jobs(deployment, NOON)
    assert session.scalar(sa.select(JobRun.id).where(JobRun.job == "old")) is None
    assert session.scalar(sa.select(JobRun.id).where(JobRun.job == "core.purge_job_runs"))


def _task(session, station, ends_ago, status=TaskStatus.OPEN, capacity=3):
    task = Task(station_id=station.id, title="crossing", status=status, capacity=capacity,
                starts_at=NOON - ends_ago - dt.timedelta(hours=1), ends_at=NOON - ends_ago)
    session.add(task)
    session.flush()
    return task


def _assign(session, task, person, status):
    row = Assignment(station_id=task.station_id, task_id=task.id, user_id=person.id,
                     status=status)
    session.add(row)
    if status in (AssignmentStatus.SIGNED_UP, AssignmentStatus.CHECKED_IN,
                  AssignmentStatus.COMPLETED):
        task.filled += 1
    session.flush()
    return row


def test_signed_up_assignments_become_no_shows_after_the_window_and_grace(
        world, session, sample_deployment):
    clock.freeze(NOON - dt.timedelta(hours=4))  # the sign-ups were made before the tasks
    east = world.station("east", plugins=("sample",))
    late = world.station("late")
    late.settings = {"tasks": {"no_show_grace_minutes": 90}}
    a, b, c = (world.person(n, station=east, roles=["volunteer"]) for n in "abc")
    ended = _task(session, east, dt.timedelta(minutes=45))
    recent = _task(session, east, dt.timedelta(minutes=15))
    cancelled = _task(session, east, dt.timedelta(hours=2), status=TaskStatus.CANCELLED)
    slow = _task(session, late, dt.timedelta(minutes=45))
    missed = _assign(session, ended, a, AssignmentStatus.SIGNED_UP)
    came = _assign(session, ended, b, AssignmentStatus.COMPLETED)
    waiting = _assign(session, recent, a, AssignmentStatus.SIGNED_UP)
    off = _assign(session, cancelled, c, AssignmentStatus.SIGNED_UP)
    grace = _assign(session, slow, c, AssignmentStatus.SIGNED_UP)
    session.commit()

    assert ("core.mark_no_shows", east.id) in run_due_jobs(sample_deployment, NOON)
    for row in (missed, came, waiting, off, grace, ended):
        session.refresh(row)
    assert missed.status == AssignmentStatus.NO_SHOW and missed.updated_at == NOON
    assert came.status == AssignmentStatus.COMPLETED
    assert waiting.status == off.status == grace.status == AssignmentStatus.SIGNED_UP
    assert ended.filled == 1  # the no-show gave its place back
    told = session.execute(sa.select(SampleEvent.event, SampleEvent.subject_id,
                                     SampleEvent.detail)).all()
    assert told == [("assignment_changed", missed.id, "signed_up->no_show")]

    clock.freeze(NOON + dt.timedelta(minutes=50))
    run_due_jobs(sample_deployment, clock.now())
    session.refresh(grace)
    assert grace.status == AssignmentStatus.NO_SHOW  # 45 + 50 minutes > the station's 90


def test_old_check_in_positions_are_cleared_and_the_check_ins_kept(world, session, deployment):
    from core.models import Checkin

    east = world.station("east")
    east.settings = {"tasks": {"position_retention_days": 30}}
    person = world.person("v", station=east, roles=["volunteer"])
    task = _task(session, east, dt.timedelta(days=40))
    row = _assign(session, task, person, AssignmentStatus.COMPLETED)
    for age, client_id in ((dt.timedelta(days=31), "old"), (dt.timedelta(days=29), "new")):
        session.add(Checkin(station_id=east.id, task_id=task.id, assignment_id=row.id,
                            user_id=person.id, kind="in", lat=31.2, lon=121.4, accuracy_m=8,
                            distance_m=3, device_time=NOON - age, server_time=NOON - age,
                            client_id=client_id))
    session.commit()
    assert ("core.clear_old_positions", east.id) in run_due_jobs(deployment, NOON)
    kept = dict(session.execute(sa.select(Checkin.client_id, Checkin.lat)).all())
    assert kept == {"old": None, "new": 31.2}  # both check-ins stay; only the old position goes
    distance = session.scalar(sa.select(Checkin.distance_m).where(Checkin.client_id == "old"))
    assert distance == 3


def test_retention_clears_in_batches_and_each_run_starts_where_the_last_stopped(
        world, session, deployment, monkeypatch):
    from core import retention
    from core.models import Checkin, RetentionMark

    monkeypatch.setattr(retention, "BATCH", 2)
    monkeypatch.setattr(retention, "MAX_BATCHES", 1)
    east = world.station("east")
    east.settings = {"tasks": {"position_retention_days": 30}}
    person = world.person("v", station=east, roles=["volunteer"])
    task = _task(session, east, dt.timedelta(days=60))
    row = _assign(session, task, person, AssignmentStatus.COMPLETED)
    for day in range(5):
        at = NOON - dt.timedelta(days=50 - day)
        session.add(Checkin(station_id=east.id, task_id=task.id, assignment_id=row.id,
                            user_id=person.id, kind="in", lat=31.2, lon=121.4, accuracy_m=8,
                            distance_m=3, device_time=at, server_time=at, client_id=f"c{day}"))
    session.commit()

    def still_placed():
        session.expire_all()
        return sorted(session.scalars(sa.select(Checkin.client_id).where(
            Checkin.station_id == east.id, Checkin.lat.is_not(None))))

    mark = sa.select(RetentionMark.cleared_until).where(RetentionMark.station_id == east.id,
                                                        RetentionMark.table_name == "checkin")
    run_due_jobs(deployment, NOON)
    assert still_placed() == ["c2", "c3", "c4"]  # one batch of two, the oldest first
    assert session.scalar(mark) == NOON - dt.timedelta(days=49)  # where it stopped
    run_due_jobs(deployment, NOON + dt.timedelta(days=1))
    assert still_placed() == ["c4"]
    run_due_jobs(deployment, NOON + dt.timedelta(days=2))
    assert still_placed() == []
    # Done up to the cutoff: the next run starts there, not at the beginning of the history.
    assert session.scalar(mark) == NOON + dt.timedelta(days=2) - dt.timedelta(days=30)


def test_a_retention_registration_naming_an_unknown_table_or_column_is_refused():
    from core import retention
    from core.hookspecs import RetainedPositions

    assert retention.check(retention.CHECKINS) is None
    assert "no_such_table" in retention.check(RetainedPositions("no_such_table", "at"))
    refused = retention.check(RetainedPositions("checkin", "server_time", ("lat", "altitude")))
    assert refused == "table checkin has no column altitude"
