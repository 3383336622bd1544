"""The worker: outbox delivery through each station's provider, retries, stale claims, the SQLite
lock, the SMS default, and two workers on PostgreSQL sharing the work."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import tomllib

import pytest
import sqlalchemy as sa

from core import accounts, clock, notifications
from core.db import Database
from core.jobs import run_due_jobs
from core.models import JobRun, Notification, StationPlugin, TextMessage
from core.models.notifications import DeliveryStatus
from core.plugins import Deployment, DeploymentConfig
from core.worker import WorkerLocked, exclusive_on_sqlite, run_worker
from tests.fixtures.plugins import sample_deployment_for, sample_session, write_distribution
from tests.sample_plugin.models import SampleDelivery, SampleTally

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)

FAILING_PROVIDER = '''
from core.hookspecs import Delivery, PluginInfo
from core.plugins import hookimpl


@hookimpl
def wardens_describe_plugin():
    return PluginInfo(name="gateway", version="1.0.0")


@hookimpl
def wardens_deliver_notifications(session, notifications):
    if notifications[0].params.get("outcome") == "crash":
        raise ConnectionError("gateway unreachable")
    return [Delivery(n.params["outcome"], "said " + n.params["outcome"]) for n in notifications]


@hookimpl
def wardens_send_text(session, phone, code, params, locale):
    return None if params.get("pass") else phone.endswith("0")
'''


@pytest.fixture
def gateway(site, connection):
    write_distribution(site, "wardens_gateway", {"gateway": "wardens_gateway_plugin"},
                       {"wardens_gateway_plugin/__init__.py": FAILING_PROVIDER})
    database = Database("sqlite://")
    database.bind(connection)
    return Deployment(database, DeploymentConfig.from_dict(
        tomllib.loads('[plugins]\ninstalled = ["gateway"]')))


def outbox(session):
    session.expire_all()
    return {n.params.get("tag", n.id): n for n in session.scalars(sa.select(Notification))}


def test_without_a_provider_the_inbox_is_the_delivery(world, session, deployment):
    clock.freeze(NOON)
    east = world.station("east")
    person = world.person(station=east)
    notifications.notify(session, person.id, "core.task_cancelled", station_id=east.id, title="x")
    session.commit()
    assert notifications.deliver_pending(deployment.database.writer, "w1") == 1
    (row,) = outbox(session).values()
    assert row.delivery_status == DeliveryStatus.SKIPPED and row.delivered_at == NOON
    assert row.attempts == 1 and row.claimed_by is None
    assert notifications.deliver_pending(deployment.database.writer, "w1") == 0


def test_each_station_gets_the_provider_it_switched_on_rendered_in_the_readers_language(
        world, session, sample_deployment):
    clock.freeze(NOON)
    on, off = world.station("on", plugins=("sample",)), world.station("off")
    english = world.person("Ann", station=on)
    english.user.locale = "en"
    chinese = world.person("Bo", station=on)
    for station, tag in ((on, "en-on"), (off, "en-off")):
        notifications.notify(session, english.id, "sample.hello", station_id=station.id,
                             name="Ann", tag=tag)
    notifications.notify(session, chinese.id, "sample.hello", station_id=on.id, name="Bo",
                         tag="zh-on")
    session.commit()

    assert notifications.deliver_pending(sample_deployment.database.writer, "w1") == 3
    rows = outbox(session)
    assert rows["en-on"].delivery_status == rows["zh-on"].delivery_status == DeliveryStatus.SENT
    assert rows["en-off"].delivery_status == DeliveryStatus.SKIPPED
    sent = session.execute(sa.select(SampleDelivery.notification_id, SampleDelivery.text)
                           .order_by(SampleDelivery.notification_id)).all()
    assert sent == [(rows["en-on"].id, "Hello Ann."), (rows["zh-on"].id, "你好，Bo。")]


def test_failures_are_retried_with_backoff_then_recorded(world, session, gateway):
    clock.freeze(NOON)
    east = world.station("east", plugins=("gateway",))
    person = world.person(station=east)
    for outcome in ("retry", "failed", "crash"):
        notifications.notify(session, person.id, "sample.hello", station_id=east.id,
                             outcome=outcome, tag=outcome)
        session.commit()  # one batch each: the crash must not take the others with it
        notifications.deliver_pending(gateway.database.writer, "w1")
    rows = outbox(session)
    assert rows["failed"].delivery_status == DeliveryStatus.FAILED
    assert rows["failed"].last_error == "gateway: said failed"  # each channel names itself
    for tag in ("retry", "crash"):
        assert rows[tag].delivery_status == DeliveryStatus.PENDING
        assert rows[tag].next_attempt_at == NOON + dt.timedelta(seconds=60)
    assert "gateway unreachable" in rows["crash"].last_error

    for _ in range(notifications.MAX_ATTEMPTS):
        clock.advance(dt.timedelta(hours=1))
        notifications.deliver_pending(gateway.database.writer, "w1")
    rows = outbox(session)
    assert rows["retry"].delivery_status == rows["crash"].delivery_status == DeliveryStatus.FAILED
    assert rows["retry"].attempts == notifications.MAX_ATTEMPTS


def test_a_claim_left_by_a_dead_worker_is_taken_again_after_ten_minutes(
        world, session, deployment):
    clock.freeze(NOON)
    person = world.person()
    for tag, claimed in (("dead", NOON - dt.timedelta(minutes=11)),
                         ("busy", NOON - dt.timedelta(minutes=5))):
        session.add(Notification(user_id=person.id, code="sample.hello", params={"tag": tag},
                                 delivery_status=DeliveryStatus.SENDING, claimed_by="gone",
                                 claimed_at=claimed, attempts=1))
    session.commit()
    assert notifications.deliver_pending(deployment.database.writer, "w2") == 1
    rows = outbox(session)
    assert rows["dead"].delivery_status == DeliveryStatus.SKIPPED and rows["dead"].attempts == 2
    assert rows["busy"].delivery_status == DeliveryStatus.SENDING


def test_a_worker_round_runs_due_jobs_and_drains_the_outbox(world, session, sample_deployment):
    clock.freeze(NOON)
    east = world.station("east", plugins=("sample",))
    person = world.person(station=east)
    notifications.notify(session, person.id, "sample.hello", station_id=east.id, name="x")
    session.commit()
    run_worker(sample_deployment, "w1", once=True)
    assert session.scalar(sa.select(SampleTally.station_id)) == east.id
    (row,) = outbox(session).values()
    assert row.delivery_status == DeliveryStatus.SENT


def test_only_one_worker_runs_on_a_sqlite_file(tmp_path):
    deployment = Deployment(Database(f"sqlite:///{tmp_path}/w.db"), DeploymentConfig())
    with (exclusive_on_sqlite(deployment),
          pytest.raises(WorkerLocked, match="another wardens worker is running"),
          exclusive_on_sqlite(deployment)):
        pass
    with exclusive_on_sqlite(deployment):  # released when the first one stopped
        pass
    deployment.database.engine.dispose()


def texts_of(session):
    session.expire_all()
    return {t.phone: t for t in session.scalars(sa.select(TextMessage))}


def test_the_default_sms_provider_logs_and_prints_only_in_the_demo(
        world, session, deployment, caplog, capsys, monkeypatch):
    with caplog.at_level(logging.INFO, logger="wardens.sms"):
        notifications.send_text(session, "+8613900000001", "weak_password", "en", min_length=8)
        assert caplog.text == ""  # queued: nothing leaves inside the transaction
        session.commit()
        assert notifications.send_due_texts(deployment.database, "w1") == 1
    # the log keeps the masked number and the message's code, never the text
    assert "SMS to +86139****0001 [weak_password]" in caplog.text
    assert "+8613900000001" not in caplog.text and "password needs" not in caplog.text
    assert capsys.readouterr().out == ""
    text = texts_of(session)["+8613900000001"]
    assert text.status == DeliveryStatus.SENT and text.provider == "core.defaults"
    assert text.params == {}  # what it carried (a sign-in code) does not stay
    monkeypatch.setenv("WARDENS_ENV", "development")
    notifications.send_text(session, "+8613900000002", "weak_password", "zh-CN", min_length=8)
    session.commit()
    notifications.send_due_texts(deployment.database, "w1")
    assert capsys.readouterr().out == "[SMS to +8613900000002] 密码至少需要 8 个字符。\n"


def test_a_plugin_replaces_the_sms_provider_or_passes_it_on(world, session, gateway, caplog):
    clock.freeze(NOON)
    with sample_session(gateway) as plugin_session, caplog.at_level(logging.INFO,
                                                                    logger="wardens.sms"):
        notifications.send_text(plugin_session, "+8613900000010", "weak_password")
        notifications.send_text(plugin_session, "+8613900000011", "weak_password")
        notifications.send_text(plugin_session, "+8613900000012", "weak_password",
                                **{"pass": True})
        plugin_session.commit()
        assert notifications.send_due_texts(gateway.database, "w1") == 3
        texts = texts_of(session)
        assert texts["+8613900000010"].status == DeliveryStatus.SENT
        assert texts["+8613900000010"].provider == "gateway"
        assert texts["+8613900000011"].status == DeliveryStatus.FAILED
        assert texts["+8613900000011"].last_error == "refused by the provider"
        assert "SMS to +86139****0010" not in caplog.text
        assert "SMS to +86139****0012" in caplog.text  # the core default answered
        assert texts["+8613900000012"].provider == "core.defaults"


@pytest.mark.postgres_only
def test_two_workers_deliver_500_notifications_once_and_run_each_job_slot_once(
        live_world, sample_site, sample_toml, test_database_url):
    clock.freeze(NOON)
    session = live_world.session
    stations = [live_world.station(f"s{i:02d}", plugins=("sample",)) for i in range(8)]
    quiet = live_world.station("quiet")  # sample off: its job skips the station
    user = accounts.create_user(session, phone="+8613955550000", display_name="n")
    session.flush()
    every = [*stations, quiet, None]
    session.add_all([Notification(user_id=user.id, code="sample.hello", params={"name": str(i)},
                                  station_id=every[i % len(every)].id if every[i % len(every)]
                                  else None)
                     for i in range(500)])
    session.commit()
    workers = [sample_deployment_for(test_database_url, sample_toml) for _ in range(2)]
    moments = [NOON + dt.timedelta(minutes=m) for m in (0, 3, 10, 12, 20)]
    barrier = threading.Barrier(2)
    delivered: dict[str, int] = {}
    ran: dict[str, list] = {}
    failures: list[BaseException] = []

    def work(deployment: Deployment, name: str) -> None:
        try:
            barrier.wait()
            ran[name] = []
            delivered[name] = 0
            for moment in moments:
                ran[name] += [(job, sid, moment) for job, sid in
                              run_due_jobs(deployment, moment, worker=name)]
                delivered[name] += notifications.deliver_pending(deployment.database.writer,
                                                                 name, batch=10)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(w, f"w{i}")) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in workers:
        worker.database.engine.dispose()
    assert failures == []

    assert delivered["w0"] + delivered["w1"] == 500
    assert delivered["w0"] > 0 and delivered["w1"] > 0  # both did share the work
    per_notification = session.execute(
        sa.select(SampleDelivery.notification_id, sa.func.count())
        .group_by(SampleDelivery.notification_id)).all()
    sample_on = sum(1 for i in range(500) if every[i % len(every)] is not quiet)
    assert len(per_notification) == sample_on and {c for _n, c in per_notification} == {1}
    statuses = session.execute(sa.select(Notification.delivery_status, sa.func.count())
                               .group_by(Notification.delivery_status)).all()
    assert dict(statuses) == {DeliveryStatus.SENT: sample_on,
                              DeliveryStatus.SKIPPED: 500 - sample_on}

    # Each (job, station, slot) ran on exactly one of the two workers.
    both = ran["w0"] + ran["w1"]
    slots = {(job, sid, moment.replace(minute=moment.minute - moment.minute % 10))
             for job, sid, moment in both if job == "sample.tally"}
    assert len(slots) == len(stations) * 3  # slots 12:00, 12:10, 12:20
    assert session.scalar(sa.select(sa.func.count()).select_from(JobRun)) == len(both)
    tallies = session.execute(sa.select(SampleTally.station_id, SampleTally.counted_at,
                                        sa.func.count())
                              .group_by(SampleTally.station_id, SampleTally.counted_at)).all()
    assert len(tallies) == len(stations) * 3 and {c for *_k, c in tallies} == {1}
    assert quiet.id not in {sid for sid, _at, _c in tallies}
    assert session.scalar(sa.select(sa.func.count()).select_from(StationPlugin)) == 8
