"""The hooks a Wardens plugin may implement; every one is documented in docs/plugins.md."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import marshmallow as ma
    from sqlalchemy import orm as so

    from core.jobs import Job
    from core.models import Assignment, Membership, Notification, Station, Task, User

hookspec = pluggy.HookspecMarker("wardens")


@dataclass(frozen=True)
class TaskKind:
    """A kind of task a plugin owns; a private kind is seen only by assignees and its officers."""

    name: str
    private: bool = False


@dataclass(frozen=True)
class PluginInfo:
    """What a plugin tells the core about itself."""

    name: str
    version: str
    description: str = ""
    #: marshmallow schema of its settings (plugins.toml defaults, overridden per station).
    settings_schema: type[ma.Schema] | None = None
    #: event code -> default amount, e.g. {"patrol.checkpoint_ok": 2}.
    points_rules: dict[str, int] = field(default_factory=dict)
    task_kinds: tuple[TaskKind, ...] = ()
    #: error and notification codes -> {"en": ..., "zh-CN": ...}.
    messages: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Python package whose models must carry the plugin's table prefix.
    package: str = ""


@dataclass(frozen=True)
class Identity:
    """A person an identity provider vouches for."""

    phone: str
    provider: str
    phone_verified: bool = True
    display_name: str = ""


@dataclass(frozen=True)
class Delivery:
    """The outcome of delivering one notification."""

    status: str  # "sent", "skipped" (nothing to push to), "retry" or "failed"
    error: str | None = None


@hookspec
def wardens_describe_plugin() -> PluginInfo:
    """Describe the plugin: name, version, settings schema, points rules, task kinds, messages.

    Called once at start-up. The name must match the name in plugins.toml.

    :return: a :class:`PluginInfo`.
    """


@hookspec
def wardens_register_blueprints() -> list[Any]:
    """Return the plugin's flask-smorest blueprints.

    Each is mounted at ``/api/v1/stations/<station>/<plugin-name>/`` and answers 404
    ``plugin_disabled`` for a station that has the plugin switched off.

    :return: a list of ``api.smorest.Blueprint``.
    """


@hookspec
def wardens_migration_folders() -> list[str]:
    """Return folders of Alembic revisions for a third-party plugin (built-ins are always known).

    :return: absolute paths, each holding revisions on the plugin's own branch label.
    """


@hookspec
def wardens_task_completed(
    session: so.Session, station: Station, task: Task, assignment: Assignment
) -> None:
    """React to an assignment becoming completed (after check-out), in the same transaction.

    :param session: the open unit of work.
    :param station: the station; only called when the plugin is switched on there.
    :param task: the task.
    :param assignment: the completed assignment.
    """


@hookspec
def wardens_assignment_changed(
    session: so.Session, station: Station, task: Task, assignment: Assignment, previous: str | None
) -> None:
    """React to an assignment's status changing (signed up, waitlisted, promoted, withdrawn...).

    :param previous: the status before, or None for a new assignment.
    """


@hookspec
def wardens_membership_created(session: so.Session, station: Station, membership: Membership) -> None:
    """React to a person joining a station (added, joined, or a pending membership claimed)."""


@hookspec
def wardens_user_erased(session: so.Session, user: User) -> None:
    """Anonymise the plugin's personal data about ``user``, before the core erases them.

    Called for every installed plugin, switched on or not: erasure must reach all data.
    """


@hookspec
def wardens_scheduled_jobs() -> list[Job]:
    """Return the plugin's periodic jobs.

    :return: a list of :class:`core.jobs.Job`; each runs once per station (with the plugin
        switched on) per interval slot, on whichever worker claims the slot.
    """


@hookspec
def wardens_seed_demo(session: so.Session, station: Station, people: dict[str, User]) -> None:
    """Add the plugin's demo data to the demo station.

    :param people: the demo users by role name ("admin", "officer", "volunteer1", ...).
    """


@hookspec
def wardens_dashboard_metrics(
    session: so.Session, station: Station, since: dt.datetime
) -> dict[str, Any]:
    """Return the plugin's metrics for the station dashboard since ``since``.

    :return: a flat dict of metric name -> number; keys are shown under the plugin's name.
    """


@hookspec(firstresult=True)
def wardens_verify_identity(
    session: so.Session, grant_type: str, payload: dict[str, Any]
) -> Identity | None:
    """Verify a sign-in grant other than ``password`` and ``refresh_token``.

    Provider hook: the first non-None answer wins; the core default answers None.

    :param session: the request's unit of work (e.g. to read the deployment's settings).
    :param grant_type: e.g. "firebase".
    :param payload: the request body.
    :return: the :class:`Identity`, None when this provider does not handle the grant, or
        raise ``core.errors.Unauthenticated`` with a code when the grant is refused.
    """


@hookspec(firstresult=True)
def wardens_deliver_notifications(
    session: so.Session, notifications: list[Notification]
) -> dict[int, Delivery] | None:
    """Deliver a batch of claimed notifications at once (e.g. push sends grouped in chunks).

    Provider hook, asked before :func:`wardens_deliver_notification`: the first non-None answer
    wins; the core has no default. A notification left out of the answer (or every one, when
    no provider answers) goes through ``wardens_deliver_notification`` one by one.

    :param session: the open unit of work the outcomes are recorded in.
    :param notifications: the notifications this worker claimed, oldest first.
    :return: notification id -> :class:`Delivery` for the ones this provider handled, or None.
    """


@hookspec(firstresult=True)
def wardens_deliver_notification(session: so.Session, notification: Notification) -> Delivery:
    """Deliver one claimed notification (e.g. by push).

    Provider hook: the core default leaves it in the in-app inbox and answers "skipped".

    :return: a :class:`Delivery`.
    """


@hookspec(firstresult=True)
def wardens_send_text(
    session: so.Session, phone: str, code: str, params: dict[str, Any], locale: str
) -> bool:
    """Send a short text message (SMS) to ``phone``.

    Provider hook: the core default writes it to the log (and, in the demo, the console).

    :return: True when accepted for sending.
    """
