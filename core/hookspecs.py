"""The hooks a Wardens plugin may implement; every one is documented in docs/plugins.md."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    import click
    import marshmallow as ma
    from sqlalchemy import orm as so

    from core.access import Actor
    from core.jobs import Job
    from core.messages import NotificationKind
    from core.models import Assignment, Membership, Notification, Station, Task, User
    from core.plugins import Deployment
    from core.reports import Period
    from core.station_file.section import StationSection

hookspec = pluggy.HookspecMarker("wardens")


@dataclass(frozen=True)
class TaskKind:
    """A kind of task and its policy, asked by the core before it changes a task of the kind.

    A private kind is seen only by its assignees and the officers with that duty; a managed
    kind is created only through its plugin (the core's ``POST .../tasks`` refuses it). The
    ``generic_*`` fields say what the core's generic ``/tasks`` endpoints may do with a task of
    the kind; whatever they refuse goes through the plugin's own endpoints (403
    ``task_managed_by_plugin``).
    """

    name: str
    private: bool = False
    managed: bool = False
    #: a person signs themselves up (or joins the waitlist) through ``/tasks``
    generic_sign_up: bool = True
    #: a person withdraws, or an officer takes someone off, through ``/tasks``
    generic_withdraw: bool = True
    #: an officer changes the task's fields through ``/tasks``
    generic_edit: bool = True
    #: an officer cancels the task through ``/tasks``
    generic_cancel: bool = True
    #: an officer signs someone else up through ``/tasks``
    generic_assign: bool = True
    #: a check-out (device time) before the task's start does not complete it
    complete_not_before_start: bool = False
    #: a check-out sooner than this many minutes after the check-in (device times) does not
    #: complete it
    min_minutes: int = 0
    #: completion pays nothing at check-out: the plugin calls :func:`core.tasks.pay_completion`
    #: once its officer accepts it; a rejection pays nothing
    needs_acceptance: bool = False
    #: the points event a completed assignment of this kind books, once per assignment (None:
    #: the core books nothing; the plugin pays through its own events)
    pays: str | None = "core.task_completed"
    #: a person still signed up ``grace`` after this point of the window is a no-show
    no_show_from: str = "end"  # "start" or "end"
    #: the plugin setting holding the no-show grace in minutes (None: the station's
    #: ``no_show_grace_minutes`` task setting)
    no_show_grace_setting: str | None = None


@dataclass(frozen=True)
class RetainedPositions:
    """Positions in a table that the core's retention job clears (``core.clear_old_positions``).

    Once a row's ``time_column`` is older than the station's ``tasks.position_retention_days``,
    its ``position_columns`` are set to NULL (and ``cleared_at_column``, if named, to the time
    of clearing); the row itself stays. ``only_when`` limits it to rows whose columns hold these
    values (e.g. ``{"status": "resolved"}``). The job runs for every station whether or not the
    plugin is switched on, in batches, from where its last run stopped: so the table needs
    ``id`` and ``station_id`` columns, an index on ``(station_id, time_column)``, and a time
    column set when the row is written (or later), never to a time already past the retention.
    """

    table: str
    time_column: str
    position_columns: tuple[str, ...] = ("lat", "lon")
    only_when: dict[str, Any] = field(default_factory=dict)
    cleared_at_column: str | None = None


@dataclass(frozen=True)
class PluginInfo:
    """What a plugin tells the core about itself."""

    name: str
    version: str
    description: str = ""
    #: marshmallow schema of its settings (plugins.toml defaults, overridden per station);
    #: a field with ``metadata={"secret": True}`` is never shown by the API, one with
    #: ``metadata={"deployment": True}`` is set in plugins.toml only (a station may not
    #: override it). Its validators run on requests: they never touch files or the network.
    settings_schema: type[ma.Schema] | None = None
    #: called once at start-up with the loaded plugins.toml settings: the one place a plugin
    #: may read a file or the network to check them; raise ValueError naming the key to stop.
    check_deployment: Callable[[dict[str, Any]], None] | None = None
    #: event code -> default amount, e.g. {"patrol.checkpoint_ok": 2}.
    points_rules: dict[str, int] = field(default_factory=dict)
    task_kinds: tuple[TaskKind, ...] = ()
    #: group kinds whose members hold one of the plugin's duties (e.g. ``care_team``): such
    #: groups are changed only by station admins or through the plugin's own services.
    group_kinds: tuple[str, ...] = ()
    #: error (and text-message) codes -> {"en": ..., "zh-CN": ...}.
    messages: dict[str, dict[str, str]] = field(default_factory=dict)
    #: notification codes ``<name>.<event>`` -> their texts and target kind
    #: (:class:`core.messages.NotificationKind`).
    notifications: dict[str, NotificationKind] = field(default_factory=dict)
    #: the English messages of its own field validators -> their zh-CN translation.
    field_messages: dict[str, str] = field(default_factory=dict)
    #: Python package whose models must carry the plugin's table prefix (default: the plugin's
    #: own module).
    package: str = ""
    #: Tables of the plugin holding people's positions, cleared by the core's retention job.
    retained_positions: tuple[RetainedPositions, ...] = ()


@dataclass(frozen=True)
class Identity:
    """A person an identity provider vouches for."""

    phone: str | None
    provider: str
    phone_verified: bool = True
    display_name: str = ""
    #: the provider's own id of the person (a Firebase uid, a WeChat openid): linked to the
    #: account on first sign-in, found by it afterwards (``identity_link``)
    subject: str | None = None
    #: further ids of the same person at the provider, linked alongside (a WeChat unionid)
    also: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Delivery:
    """The outcome of delivering one notification by one channel, or of one text message."""

    status: str  # "sent", "skipped" (nothing to push to), "retry" or "failed"
    error: str | None = None
    #: with "retry": the provider said when (its rate limit); else the outbox's backoff
    retry_after: dt.timedelta | None = None


@dataclass(frozen=True)
class ConsoleNav:
    """One entry of the station console's navigation, shown to the roles named."""

    #: the Flask endpoint of the page (``"<blueprint name>.<view>"``); it takes ``station``
    endpoint: str
    #: {"en": ..., "zh-CN": ...}
    label: dict[str, str]
    #: shown to members holding one of these roles (the page's service still decides)
    roles: tuple[str, ...] = ("officer", "admin")
    #: a finer test ``(session, actor) -> bool`` where a role is not enough (a duty, a group):
    #: the page's own check, so no entry leads to a page that answers 403
    shown: Callable[[so.Session, Actor], bool] | None = None


@dataclass(frozen=True)
class ConsolePages:
    """A plugin's console pages: a Flask blueprint and its navigation entries."""

    #: a ``flask.Blueprint`` (its ``template_folder`` holds ``<plugin>/*.html``); mounted at
    #: ``/console/<station>/<plugin-name-with-hyphens>/``; 404 while the station has it off
    blueprint: Any
    nav: tuple[ConsoleNav, ...] = ()


@dataclass(frozen=True)
class ConsolePanel:
    """A panel of the console's dashboard, rendered inside the core's layout."""

    #: {"en": ..., "zh-CN": ...}
    title: dict[str, str]
    #: a Jinja2 template of the plugin's (``"patrol/panel.html"``)
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    #: panels are shown by this order, then by plugin name
    order: int = 100


@dataclass(frozen=True)
class Report:
    """A report the console offers as a spreadsheet (``.xlsx`` and CSV) over a chosen period.

    ``rows`` calls the plugin's own service, which checks who may read it (as the API does),
    and gives plain values (str, int, float, date, aware datetime) in the order of ``columns``.
    """

    #: ``<plugin>.<noun>`` (``core.<noun>`` for the core's); the file's name and its URL
    name: str
    #: {"en": ..., "zh-CN": ...}
    title: dict[str, str]
    #: each column's heading, {"en": ..., "zh-CN": ...}
    columns: tuple[dict[str, str], ...]
    #: (session, actor, period) -> the rows
    rows: Callable[[so.Session, Actor, Period], Iterable[Sequence[Any]]]
    #: listed for members holding one of these roles (``rows`` still decides)
    roles: tuple[str, ...] = ("officer", "admin")


@dataclass(frozen=True)
class TodayCard:
    """One card of a person's home screen (``GET /api/v1/me/today``): a thing to do now or next.

    ``kind`` is ``<plugin>.<noun>`` (``crossing_guard.shift``); ``title`` the record's own words
    (a task's title, a quiz's title), never personal data the person may not see; ``target``
    what the phone opens (:func:`core.targets.target`, the station may be left out: the core
    fills it in). Times are aware (UTC is fine: the API renders them in the station's zone).
    """

    kind: str
    title: str
    target: dict[str, Any]
    #: when it starts (a shift, a visit) or, for a deadline, None with ``ends_at`` set
    starts_at: dt.datetime | None = None
    #: when it ends, or the deadline (a coupon's expiry, a quiz's close)
    ends_at: dt.datetime | None = None
    #: to do now (under way, check-in open, about to expire) rather than next
    now: bool = False
    #: the person's status on it (signed_up, waitlisted, checked_in, active, ...)
    status: str | None = None
    #: a few JSON values the card shows (points on offer, a waitlist position...)
    details: dict[str, Any] = field(default_factory=dict)


# Describing the plugin -------------------------------------------------------------------------

@hookspec
def wardens_describe_plugin() -> PluginInfo:
    """Describe the plugin: name, version, settings schema, points rules, task kinds, messages.

    Called once at start-up, for every installed plugin. Required.

    :return: a :class:`PluginInfo` whose ``name`` is the name plugins.toml installs it under.
    """


@hookspec
def wardens_register_blueprints() -> list[Any]:
    """Return the plugin's flask-smorest blueprints.

    Called once at start-up. Each blueprint is mounted at
    ``/api/v1/stations/<station>/<plugin-name-with-hyphens>/``, so every view receives
    ``station``; for a station that has the plugin switched off it answers 404
    ``plugin_disabled`` before the view runs.

    :return: a list of ``api.smorest.Blueprint``; blueprint names are unique in the app.
    """


@hookspec
def wardens_migration_folders() -> list[str]:
    """Return the folders of the plugin's Alembic revisions (third-party plugins).

    Built-in plugins need not implement it: ``plugins/<name>/migrations/versions`` is always
    known. A third-party plugin whose revisions live in ``<package>/migrations/versions`` is
    also found while it is not installed, so that ``wardens db upgrade`` still works on a
    database that recorded them.

    :return: absolute paths, each holding revisions on the plugin's own branch label.
    """


# Core events (called only for the plugins switched on for the station) --------------------------

@hookspec
def wardens_task_completed(
    session: so.Session, station: Station, task: Task, assignment: Assignment
) -> None:
    """React to an assignment becoming completed (after check-out), in the same transaction.

    :param session: the open unit of work; do not commit.
    :param station: the station; only called when the plugin is switched on there.
    :param task: the task.
    :param assignment: the completed assignment.
    """


@hookspec
def wardens_assignment_changed(
    session: so.Session, station: Station, task: Task, assignment: Assignment, previous: str | None
) -> None:
    """React to an assignment's status changing (signed up, waitlisted, promoted, no-show...).

    :param session: the open unit of work; do not commit.
    :param station: the station; only called when the plugin is switched on there.
    :param task: the task.
    :param assignment: the assignment, with its new status.
    :param previous: the status before, or None for a new assignment.
    :raises core.errors.WardensError: to refuse the change (e.g. a rule of the plugin's own,
        such as a withdrawal cutoff); the whole unit of work is then rolled back.
    """


@hookspec
def wardens_membership_created(session: so.Session, station: Station, membership: Membership) -> None:
    """React to a person joining a station (added, joined, or a pending membership claimed).

    :param session: the open unit of work; do not commit.
    :param station: the station; only called when the plugin is switched on there.
    :param membership: the new membership, with ``user_id`` set.
    """


@hookspec
def wardens_membership_removed(session: so.Session, station: Station, user: User) -> None:
    """Drop what ``user`` held in ``station`` through the plugin, as they leave it.

    Called for every installed plugin, switched on or not, when an admin removes a member or
    the member leaves: after the core withdrew their future sign-ups and took them out of the
    station's groups, before the membership is deleted. Whatever gave them sight or standing
    in the station (a named visitor, a calendar address, an open offer) must go: re-joining
    later must not bring it back.

    :param session: the open unit of work; do not commit.
    :param station: the station they leave.
    :param user: the person (not erased: they keep their account).
    """


@hookspec
def wardens_plugin_switched(session: so.Session, station: Station, plugin: str, enabled: bool) -> None:
    """React to a station switching an installed plugin on or off, in the same transaction.

    Called for every installed plugin (the one switched included, whatever its state), e.g. so
    a plugin can give a station its starter data the first time the station turns it on.

    :param session: the open unit of work.
    :param station: the station that switched.
    :param plugin: the name of the plugin switched.
    :param enabled: True when switched on, False when switched off.
    """


@hookspec
def wardens_export_user(session: so.Session, user: User) -> dict[str, Any]:
    """Return what the plugin holds about ``user``, for their copy (``GET /api/v1/me/export``).

    Called for every installed plugin, switched on or not: the data exists either way. Give
    the person's own records (``core.export.rows`` dumps a model's rows, credentials left
    out); leave out what is about other people (a recipient's health notes, answers to
    quiz questions still open).

    :param session: the request's unit of work; read only.
    :param user: the person asking.
    :return: a dict of section name -> JSON-ready data (lists of records); empty for nothing.
    """


@hookspec
def wardens_user_erased(session: so.Session, user: User) -> None:
    """Anonymise the plugin's personal data about ``user``, before the core erases them.

    Called for every installed plugin, switched on or not: erasure must reach all data.

    :param session: the open unit of work; do not commit.
    :param user: the person, still with their phone and name.
    """


# Work done by the worker and for the demo -----------------------------------------------------

@hookspec
def wardens_scheduled_jobs() -> list[Job]:
    """Return the plugin's periodic jobs.

    Called once at start-up. A job's name is prefixed with the plugin's name.

    :return: a list of :class:`core.jobs.Job`; a per-station job runs once per station that has
        the plugin switched on per interval slot, on whichever worker claims the slot.
    """


@hookspec
def wardens_seed_demo(session: so.Session, station: Station, people: dict[str, User]) -> None:
    """Add what happened at the demo station (``wardens demo``), once.

    The station's set-up comes from examples/demo-station.toml (a station file) first; the
    plugin adds activity (patrols, sign-ups, visits), finding the file's objects by key.

    :param session: the open unit of work; do not commit.
    :param station: the demo station, with every installed plugin switched on.
    :param people: the demo users by key ("admin", "officer", "volunteer1", "resident1", ...).
    """


@hookspec
def wardens_today_cards(
    session: so.Session, station: Station, user: User, now: dt.datetime
) -> list[TodayCard]:
    """Return what ``user`` should do now and next in ``station`` through the plugin.

    ``GET /api/v1/me/today`` (a phone's home screen) asks every plugin switched on in each of
    the person's stations and shows the cards by time. Keep it to one or two queries and a few
    cards (what is under way, the next few days): the home screen is opened often.

    :param session: the request's unit of work; read only.
    :param station: one of the person's stations; only called when the plugin is on there.
    :param user: the person.
    :param now: the time to judge "now" and "next" by (aware UTC).
    :return: a list of :class:`TodayCard` whose kinds start with the plugin's name.
    """


@hookspec
def wardens_task_targets(session: so.Session, tasks: list[Task]) -> dict[int, dict[str, Any]]:
    """Return what the phone opens for tasks of the plugin's kinds (``/me/assignments``).

    A crossing shift opens the shift (its check-in needs the shift's id), a care visit the
    visit. Called with the tasks of the plugin's own kinds only; a task left out opens as
    ``core.task``.

    :param session: the request's unit of work; read only.
    :param tasks: tasks of the plugin's kinds, from any station that has the plugin on.
    :return: task id -> :func:`core.targets.target` (the station may be left out).
    """


@hookspec
def wardens_dashboard_metrics(
    session: so.Session, station: Station, since: dt.datetime
) -> dict[str, Any]:
    """Return the plugin's metrics for the station dashboard since ``since``.

    :param session: a read-only session.
    :param station: the station; only called when the plugin is switched on there.
    :param since: the start of the period (aware UTC).
    :return: a flat dict of metric name -> number, shown under the plugin's name.
    """


@hookspec
def wardens_register_commands(load_deployment: Callable[[], Deployment]) -> list[click.Command]:
    """Return the plugin's commands for the ``wardens`` command line.

    Each is added under its own name (e.g. ``wardens anti-fraud ...``); a name the core or
    another plugin already uses stops start-up.

    :param load_deployment: builds the deployment (database and plugins) from the environment;
        a command calls it when it runs, so ``wardens --help`` touches no database.
    :return: a list of ``click.Command`` (usually one ``click.Group`` named after the plugin).
    """


@hookspec
def wardens_station_sections() -> list[StationSection]:
    """Return the plugin's sections of the station file (``wardens station plan/apply/export``).

    Called once at start-up. A plugin's section is named after the plugin (``[patrol]``); it
    declares its marshmallow schema and how to export, plan and apply it (see
    :class:`core.station_file.section.StationSection` and docs/station-file.md). A file that
    leaves the section out leaves the plugin's objects alone.

    :return: a list of :class:`core.station_file.section.StationSection`; the core's own
        sections (station, plugins, seats, groups, points) come first.
    """


# The station console ---------------------------------------------------------------------------

@hookspec
def wardens_console_pages() -> list[ConsolePages]:
    """Return the plugin's pages of the station console (``/console``).

    Called once at start-up. Each blueprint is mounted at
    ``/console/<station>/<plugin-name-with-hyphens>/``, so every view receives ``station``;
    for a station that has the plugin switched off its pages answer 404 and its navigation
    entries are not shown. Views call the plugin's services with ``api.auth.actor(station)``,
    the same actor as the API's, and render with ``console.pages.render``.

    :return: a list of :class:`ConsolePages`; blueprint names are unique in the app.
    """


@hookspec
def wardens_console_panels(session: so.Session, actor: Actor) -> list[ConsolePanel]:
    """Return the plugin's panels for the console's dashboard of ``actor.station``.

    Only called for stations that have the plugin switched on, for each dashboard shown.

    :param session: the request's unit of work; read only.
    :param actor: the signed-in person in the station (officers and admins see the dashboard).
    :return: a list of :class:`ConsolePanel` (empty: nothing to show this person).
    """


@hookspec
def wardens_reports() -> list[Report]:
    """Return the plugin's reports (:class:`Report`), offered on the console's Reports page.

    Called once at start-up. Each is downloaded at ``/console/<station>/reports/<name>.xlsx``
    (or ``.csv``) with ``?from=YYYY-MM-DD&to=YYYY-MM-DD``, only for stations that have the
    plugin switched on; the sheet names the station, the period and its time zone.

    :return: a list of :class:`Report`; names start with the plugin's name and a dot.
    """


# Providers: the first non-None answer wins; the core's default is registered trylast ----------

@hookspec(firstresult=True)
def wardens_verify_identity(
    session: so.Session, grant_type: str, payload: dict[str, Any]
) -> Identity | None:
    """Verify a sign-in grant other than ``password`` and ``refresh_token``.

    Provider hook, for the whole deployment: the core default answers None, which makes the
    grant a 422 ``unsupported_grant_type``.

    :param session: the request's unit of work (e.g. to read the deployment's settings).
    :param grant_type: e.g. "firebase".
    :param payload: the request body.
    :return: the :class:`Identity`, None when this provider does not handle the grant, or
        raise ``core.errors.Unauthenticated`` with a code when the grant is refused.
    """


@hookspec
def wardens_deliver_notifications(
    session: so.Session, notifications: list[Notification]
) -> list[Delivery] | None:
    """Deliver a batch of claimed notifications of one station by the plugin's channel.

    A delivery channel (FCM, JPush, WeChat...), asked per station among the plugins switched on
    there (notifications without a station ask every installed plugin). Every channel is asked,
    not only the first: each answer is recorded on the notification's delivery row for the
    channel (named after the plugin), with its own tries, backoff and error; a channel is asked
    again only for its own retries. The in-app inbox is always one of the channels. The worker
    records the outcomes in the same transaction; delivery is at-least-once (a crash after
    sending may resend).

    :param session: the worker's transaction; the provider may write (e.g. drop a dead token).
    :param notifications: up to 100 notifications, each with ``code`` and ``params`` to render
        in the recipient's language (``core.messages.render``).
    :return: one :class:`Delivery` per notification, in the same order ("skipped": the channel
        has no way to reach that person), or None when the channel does not apply at all.
    """


@hookspec(firstresult=True)
def wardens_send_text(
    session: so.Session, phone: str, code: str, params: dict[str, Any], locale: str
) -> bool | Delivery | None:
    """Send a short text message (SMS) to ``phone``.

    Provider hook, for the whole deployment, asked by the text outbox
    (``core.notifications.send_text`` queues; the texts leave after the transaction commits,
    or by the worker), never inside a write transaction. The core default logs that a text was due (logger
    ``wardens.sms``, masked number and message code only: texts carry sign-in codes) and, in
    the demo (``WARDENS_ENV=development``), prints the whole text to the console.

    :param session: a read-only session (e.g. for the deployment's settings).
    :param phone: an E.164 number.
    :param code: a message code whose texts are registered (core or a plugin's messages).
    :param params: the placeholders of the text.
    :param locale: "zh-CN" or "en".
    :return: True when accepted for sending, False when refused, a :class:`Delivery`
        ("sent", "retry" with its error and perhaps ``retry_after``, "failed" with its error),
        or None to leave it to the next provider.
    """
